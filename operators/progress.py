"""Progress of long work (LLM calls, sandbox runs, embeddings): rows done of total, rate and errors so far.

Engines report through a :class:`Tracker` (``track(label, total)``, then ``advance()`` as rows finish, from any
thread); whoever listens shows it. A listener is attached for a block of code with :func:`listening` (the
Dagster step logs at intervals) or for the whole process with :func:`add_listener` (the CLI's live bar). Nothing
here knows about Dagster or a terminal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

EMIT_INTERVAL_S = 0.5
"""Least time between two events of one tracker (the first and the last are always sent)."""


@dataclass(frozen=True)
class ProgressEvent:
    label: str
    done: int
    total: int
    errors: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Rows per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def line(self) -> str:
        return (
            f"{self.label}: {self.done}/{self.total} rows ({self.done / max(self.total, 1):.0%}), "
            f"{self.rate:.1f} rows/s, {self.errors} error(s)"
        )


Listener = Callable[[ProgressEvent], None]

_SCOPED: ContextVar[tuple[Listener, ...]] = ContextVar("progress_listeners", default=())
_PROCESS: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the events of trackers created inside this block (in this context) to ``listener``."""
    token = _SCOPED.set((*_SCOPED.get(), listener))
    try:
        yield
    finally:
        _SCOPED.reset(token)


def add_listener(listener: Listener) -> Callable[[], None]:
    """Send every tracker's events in this process to ``listener``; returns the function that removes it."""
    _PROCESS.append(listener)
    return lambda: _PROCESS.remove(listener) if listener in _PROCESS else None


class Tracker:
    """Counts rows as they finish and sends throttled events to the listeners present when it was created."""

    def __init__(self, label: str, total: int, interval_s: float = EMIT_INTERVAL_S) -> None:
        self.label, self.total, self.interval_s = label, total, interval_s
        self.done = self.errors = 0
        self._listeners = (*_SCOPED.get(), *_PROCESS)
        self._started = self._last = time.monotonic()
        self._lock = threading.Lock()
        self._emit(force=True)

    def advance(self, rows: int = 1, *, errors: int = 0) -> None:
        with self._lock:
            self.done += rows
            self.errors += errors
            self._emit(force=self.done >= self.total)

    def _emit(self, *, force: bool) -> None:
        now = time.monotonic()
        if not self._listeners or (not force and now - self._last < self.interval_s):
            return
        self._last = now
        event = ProgressEvent(self.label, self.done, self.total, self.errors, now - self._started)
        for listener in self._listeners:
            listener(event)


def track(label: str, total: int) -> Tracker:
    return Tracker(label, total)
