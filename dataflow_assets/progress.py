"""Progress of a step in the Dagster run log: one line at most every ``LOG_INTERVAL_S`` seconds, and the last."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from operators.progress import ProgressEvent, listening

LOG_INTERVAL_S = 10.0


@contextmanager
def step_progress(log: Any, step: str, interval_s: float = LOG_INTERVAL_S) -> Iterator[None]:
    """Log the progress events of the engines a step uses while the block runs."""
    last: dict[str, float] = {}

    def write(event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.finished or now - last.get(event.label, 0.0) >= interval_s:
            last[event.label] = now
            log.info(f"{step}: {event.line()}")

    with listening(write):
        yield
