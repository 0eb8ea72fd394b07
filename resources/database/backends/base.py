"""What the three engines share: the bounded fetch loop, result building and the schema they describe.

A backend opens its database read-only and runs statements the guard allowed. It fetches in batches, keeps the
first ``max_rows`` rows and counts (then drops) the rest, so memory stays bounded while the statement still runs to
its end: a runaway statement meets the time limit instead of hiding behind the row cap. The time limit is enforced
twice: by the engine (SQLite's progress handler, PostgreSQL's ``statement_timeout``, MariaDB's
``max_statement_time``) and by a deadline checked between batches on this side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from operators.database.protocol import Cause, ExecutionResult, Status

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
