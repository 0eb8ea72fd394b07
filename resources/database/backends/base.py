"""What the three engines share: the bounded fetch loop, result building and the schema they describe.

A backend opens its database read-only and runs statements the guard allowed. It fetches in batches, keeps the
first ``max_rows`` rows and counts (then drops) the rest, so memory stays bounded while the statement still runs to
its end: a runaway statement meets the time limit instead of hiding behind the row cap. The time limit is enforced
twice: by the engine (SQLite's progress handler, PostgreSQL's ``statement_timeout``, MariaDB's
``max_statement_time``) and by a deadline checked between batches on this side.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from operators.database.protocol import Cause, ExecutionResult, Status
from resources.database.urls import DatabaseURL, DatabaseURLError

log = logging.getLogger(__name__)

FETCH_BATCH = 1000
"""Rows fetched per round trip."""


class Deadline(Exception):
    """The client-side deadline passed between two batches."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool = False


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    samples: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Column -> a few distinct non-null values."""


class Backend(Protocol):
    dialect: str

    def run(self, sql: str, *, timeout_s: float, max_rows: int) -> ExecutionResult:
        """Run a statement the guard allowed."""
        ...

    def tables(self, *, sample_values: int) -> list[Table]:
        """The user tables, with keys and sample values."""
        ...

    def close(self) -> None: ...


def drain(
    fetch: Callable[[int], Sequence[Sequence[Any]]], *, deadline: float, max_rows: int
) -> tuple[list[tuple[Any, ...]], int]:
    """Fetch every row: keep the first ``max_rows``, count the rest. Raises :class:`Deadline` when the clock runs
    out between two batches."""
    kept: list[tuple[Any, ...]] = []
    count = 0
    while True:
        batch = fetch(FETCH_BATCH)
        if not batch:
            return kept, count
        count += len(batch)
        room = max_rows - len(kept)
        if room > 0:
            kept.extend(tuple(row) for row in batch[:room])
        if len(batch) < FETCH_BATCH:
            return kept, count
        if time.monotonic() > deadline:
            raise Deadline


def finished(rows: list[tuple[Any, ...]], count: int, columns: int, started: float, database: str) -> ExecutionResult:
    return ExecutionResult(
        Status.OK,
        rows=tuple(rows),
        columns=columns,
        row_count=count,
        truncated=count > len(rows),
        elapsed_s=time.monotonic() - started,
        database=database,
    )


def failed(status: Status, cause: Cause, reason: str, started: float, database: str) -> ExecutionResult:
    return ExecutionResult(status, cause, reason, elapsed_s=time.monotonic() - started, database=database)


def timed_out(timeout_s: float, started: float, database: str) -> ExecutionResult:
    return failed(Status.TIMEOUT, Cause.TIMEOUT, f"stopped after the {timeout_s:g} s time limit", started, database)


def first_line(message: object) -> str:
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__


class ServerBackend:
    """What the PostgreSQL and MariaDB backends share: one connection, opened on first use and dropped when it
    breaks, behind a lock, and the report of a connection whose role could do more than read."""

    dialect: str

    def __init__(self, url: DatabaseURL, *, timeout_s: float, require_unprivileged: bool) -> None:
        self.url = url
        self.identity = url.identity()
        self.timeout_s = timeout_s
        self.require_unprivileged = require_unprivileged
        self._lock = threading.Lock()
        self._connection: Any = None

    def _connect(self) -> Any:
        """A new read-only session with the time limit set."""
        raise NotImplementedError

    def _is_open(self, connection: Any) -> bool:
        raise NotImplementedError

    def _connected(self) -> Any:
        if self._connection is None or not self._is_open(self._connection):
            self._connection = self._connect()
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # the socket may already be gone; the connection is discarded either way
                log.debug("closing a broken connection to %s failed", self.identity)

    def _privileged(self, message: str, *, who: str) -> None:
        """Refuse (``require_unprivileged``) or warn about a connection whose ``who`` (role, user) can do more
        than read: ``message`` says what it holds."""
        if self.require_unprivileged:
            raise DatabaseURLError(message, hint=f"connect as a {who} with SELECT only (docs/sql.md)")
        log.warning("%s; the statement guard is then the only barrier (docs/sql.md: a read-only %s)", message, who)

    def close(self) -> None:
        self._drop()


def sample_values_sql(table: str, column: str, limit: int, quote: Callable[[str], str]) -> str:
    """The statement that reads a few distinct non-null values of a column (shown to the model with the schema)."""
    return (
        f"SELECT DISTINCT {quote(column)} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL "
        f"ORDER BY 1 LIMIT {int(limit)}"
    )


def quote_double(identifier: str) -> str:
    """An identifier in standard SQL double quotes (SQLite, PostgreSQL)."""
    return '"' + identifier.replace('"', '""') + '"'
