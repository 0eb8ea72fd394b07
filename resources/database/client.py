"""``DatabaseClient``: the ``Database`` protocol over named databases and their variants, with the guard in front.

Every statement goes through :func:`resources.database.guard.check` in the database's dialect before it reaches a
connection; connections are opened on first use, one per URL, and reused. Usage counts statements by outcome,
rows returned and seconds spent, for the step's materialization metadata.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import cached_property

from operators.database.protocol import ExecutionResult, Status
from operators.engines import CounterUsage
from operators.errors import DataflowError
from resources.database import guard, schema
from resources.database.backends.base import Backend
from resources.database.urls import DatabaseURL, DatabaseURLError


class UnknownDatabaseError(DataflowError, KeyError):
    """A ``db_id`` that is not configured."""


class DatabaseClient:
    def __init__(
        self,
        databases: Mapping[str, str | Sequence[str]],
        *,
        timeout_s: float = 5.0,
        max_rows: int = 100_000,
        allow_recursive: bool = False,
        require_unprivileged: bool = False,
    ) -> None:
        if not databases:
            raise DatabaseURLError("no databases configured", hint="give databases={db_id: url or [urls]}")
        self._urls: dict[str, list[DatabaseURL]] = {}
        for db_id, urls in databases.items():
            parsed = [DatabaseURL.parse(u) for u in ([urls] if isinstance(urls, str) else list(urls))]
            if not parsed:
                raise DatabaseURLError(f"database {db_id!r} has no URL")
            dialects = {u.dialect for u in parsed}
            if len(dialects) > 1:
                raise DatabaseURLError(
                    f"database {db_id!r}: variants on different engines ({', '.join(sorted(dialects))})",
                    hint="variants share one schema and one dialect; give each engine its own db_id",
                )
            self._urls[db_id] = parsed
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.allow_recursive = allow_recursive
        self.require_unprivileged = require_unprivileged
        self._backends: dict[tuple[str, int], Backend] = {}
        self._schemas: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("statements", "ok", "refused", "timeouts", "errors", "rows", "seconds"), 0.0)

    @cached_property
    def identity(self) -> str:
        databases = "; ".join(
            f"{db_id}=" + (urls[0].identity() if len(urls) == 1 else "[" + ", ".join(u.identity() for u in urls) + "]")
            for db_id, urls in self._urls.items()
        )
        return f"{databases} (read-only, {self.timeout_s:g} s per query, at most {self.max_rows} rows kept)"

    def db_ids(self) -> list[str]:
        return list(self._urls)

    def variants(self, db_id: str) -> list[str]:
        return [u.identity() for u in self._variant_urls(db_id)]

    def dialect(self, db_id: str) -> str:
        return self._variant_urls(db_id)[0].dialect

    def _variant_urls(self, db_id: str) -> list[DatabaseURL]:
        if db_id not in self._urls:
            raise UnknownDatabaseError(
                f"no database named {db_id!r}", hint=f"configured databases: {', '.join(self._urls)}"
            )
        return self._urls[db_id]

    def execute(self, db_id: str, sql: str, *, variant: int = 0) -> ExecutionResult:
        url = self._variant_urls(db_id)[variant]
        verdict = guard.check(sql, url.dialect, allow_recursive=self.allow_recursive)
        if not verdict.allowed:
            result = ExecutionResult(Status.REFUSED, verdict.cause, verdict.reason, database=url.identity())
        else:
            result = self._backend(db_id, variant).run(sql, timeout_s=self.timeout_s, max_rows=self.max_rows)
        self._count(result)
        return result

    def execute_all(self, db_id: str, sql: str) -> list[ExecutionResult]:
        results = []
        for variant in range(len(self._variant_urls(db_id))):
            results.append(self.execute(db_id, sql, variant=variant))
            if not results[-1].ok:
                break
        return results

    def tables(self, db_id: str) -> dict[str, list[str]]:
        self._variant_urls(db_id)
        return {t.name: [c.name for c in t.columns] for t in self._backend(db_id, 0).tables(sample_values=0)}

    def schema(self, db_id: str, *, sample_values: int = 3) -> str:
        key = (db_id, sample_values)
        self._variant_urls(db_id)
        if key not in self._schemas:
            backend = self._backend(db_id, 0)
            self._schemas[key] = schema.render(backend.tables(sample_values=sample_values), backend.dialect)
        return self._schemas[key]

    def _backend(self, db_id: str, variant: int) -> Backend:
        key = (db_id, variant)
        with self._lock:
            if key not in self._backends:
                self._backends[key] = self._open(self._urls[db_id][variant])
            return self._backends[key]

    def _open(self, url: DatabaseURL) -> Backend:
        if url.dialect == "sqlite":
            from resources.database.backends.sqlite import SQLiteBackend

            return SQLiteBackend(url)
        if url.dialect == "postgres":
            from resources.database.backends.postgres import PostgresBackend

            return PostgresBackend(url, timeout_s=self.timeout_s, require_unprivileged=self.require_unprivileged)
        from resources.database.backends.mysql import MySQLBackend

        return MySQLBackend(url, timeout_s=self.timeout_s, require_unprivileged=self.require_unprivileged)

    def _count(self, result: ExecutionResult) -> None:
        outcome = {Status.OK: "ok", Status.REFUSED: "refused", Status.TIMEOUT: "timeouts", Status.ERROR: "errors"}
        with self._lock:
            self._counts["statements"] += 1
            self._counts[outcome[result.status]] += 1
            self._counts["rows"] += result.row_count
            self._counts["seconds"] += result.elapsed_s

    def usage(self) -> CounterUsage:
        with self._lock:
            return CounterUsage(dict(self._counts))

    def close(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                backend.close()
            self._backends.clear()
