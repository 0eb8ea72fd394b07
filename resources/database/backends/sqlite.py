"""SQLite, opened so that it cannot write: a ``mode=ro`` URI, no attached databases, an authorizer.

``mode=ro`` alone leaves ``ATTACH`` (which creates a new, writable file) and ``VACUUM INTO`` (which writes a copy
anywhere) working, and SQL functions can load extensions. So the connection also gets:

- ``SQLITE_LIMIT_ATTACHED = 0``: no ATTACH at all;
- an authorizer (``sqlite3_set_authorizer``) that allows only reading tables, SELECT, recursion and functions not on
  a short deny list; every other action (writes, DDL, PRAGMA, ATTACH, transactions...) is denied while the statement
  is prepared, before it runs;
- extension loading off (where the build has it at all) and a 10 MB cap on strings and blobs (``zeroblob(1e9)``);
- a progress handler that aborts the statement when its time is up, checked every 10,000 virtual machine steps.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from operators.database.protocol import Cause, ExecutionResult, Status
from resources.database.backends.base import (
    Column,
    Deadline,
    ForeignKey,
    Table,
    drain,
    failed,
    finished,
    first_line,
    quote_double,
    sample_values_sql,
    timed_out,
)
from resources.database.urls import DatabaseURL, DatabaseURLError

PROGRESS_STEPS = 10_000
"""Virtual machine instructions between two checks of the clock: a fraction of a millisecond of work, and a Python
call 10x less often than every 1,000 (which cost about a fifth of a small query's time)."""

MAX_LENGTH = 10_000_000
"""Largest string or blob a statement may build, in bytes."""

_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"})


def _authorize(action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() not in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class SQLiteBackend:
    dialect = "sqlite"

    def __init__(self, url: DatabaseURL) -> None:
        self.url = url
        self.identity = url.identity()
        if not Path(url.path).is_file():
            raise DatabaseURLError(
                f"{self.identity}: no such database file",
                hint="check the path (sqlite:///relative.db or sqlite:////absolute/path.db)",
            )
        self._deadline = float("inf")
        self._lock = threading.Lock()
        self._connection = self._connect(guarded=True)

    def _connect(self, *, guarded: bool) -> sqlite3.Connection:
        uri = f"file:{quote(str(Path(self.url.path).resolve()))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        if hasattr(connection, "enable_load_extension"):
            connection.enable_load_extension(False)
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)
        if guarded:
            connection.set_authorizer(_authorize)
            connection.set_progress_handler(self._past_deadline, PROGRESS_STEPS)
        return connection

    def _past_deadline(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def run(self, sql: str, *, timeout_s: float, max_rows: int) -> ExecutionResult:
        with self._lock:
            started = time.monotonic()
            self._deadline = started + timeout_s
            cursor = self._connection.cursor()
            try:
                cursor.execute(sql)
                columns = len(cursor.description or ())
                rows, count = drain(cursor.fetchmany, deadline=self._deadline, max_rows=max_rows)
                return finished(rows, count, columns, started, self.identity)
            except Deadline:
                return timed_out(timeout_s, started, self.identity)
            except sqlite3.Error as error:
                return self._failure(error, timeout_s, started)
            finally:
                self._deadline = float("inf")
                cursor.close()

    def _failure(self, error: sqlite3.Error, timeout_s: float, started: float) -> ExecutionResult:
        message = first_line(error)
        if isinstance(error, sqlite3.OperationalError) and message == "interrupted":
            return timed_out(timeout_s, started, self.identity)
        if "not authorized" in message or "attempt to write" in message:
            return failed(Status.REFUSED, Cause.NOT_READ_ONLY, message, started, self.identity)
        cause = Cause.SYNTAX_ERROR if "syntax error" in message or "incomplete input" in message else None
        return failed(Status.ERROR, cause or Cause.EXECUTION_ERROR, message, started, self.identity)

    def tables(self, *, sample_values: int) -> list[Table]:
        connection = self._connect(guarded=False)  # trusted statements of our own: PRAGMA is needed here
        try:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            return [self._table(connection, name, sample_values) for name in names]
        finally:
            connection.close()

    def _table(self, connection: sqlite3.Connection, name: str, sample_values: int) -> Table:
        quoted = quote_double(name)
        info = connection.execute(f"PRAGMA table_info({quoted})").fetchall()
        columns = tuple(Column(row[1], row[2] or "", bool(row[3]) or row[5] > 0) for row in info)
        primary_key = tuple(row[1] for row in sorted((r for r in info if r[5] > 0), key=lambda r: r[5]))
        groups: dict[int, list[Any]] = {}
        for row in connection.execute(f"PRAGMA foreign_key_list({quoted})"):
            groups.setdefault(row[0], []).append(row)
        foreign_keys = tuple(
            ForeignKey(tuple(r[3] for r in rows), rows[0][2], tuple(r[4] for r in rows if r[4]))
            for rows in groups.values()
        )
        samples = {
            column.name: tuple(
                row[0] for row in connection.execute(sample_values_sql(name, column.name, sample_values, quote_double))
            )
            for column in (columns if sample_values > 0 else ())
        }
        return Table(name, columns, primary_key, foreign_keys, samples)

    def close(self) -> None:
        self._connection.close()
