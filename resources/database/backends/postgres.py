"""PostgreSQL, in read-only transactions with a statement timeout (psycopg 3).

The session starts with ``default_transaction_read_only = on`` and ``statement_timeout`` (libpq startup options),
in autocommit mode, so every statement is its own read-only transaction stopped by the server at the time limit;
rows are streamed in chunks (libpq's chunked-rows mode) so that a large result never sits whole in memory.

A read-only transaction does not stop ``COPY ... TO PROGRAM``, ``ALTER SYSTEM``, ``pg_read_file`` or
``lo_export`` for a superuser: the guard refuses those, and the connected role should not be able to do them
either. Connect as a role that owns nothing and holds only SELECT on the tables (not a superuser, not a member of
``pg_write_server_files``, ``pg_read_server_files`` or ``pg_execute_server_program``; docs/sql.md shows the
statements). A privileged role is reported when the connection opens, and refused with ``require_unprivileged``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from operators.database.protocol import Cause, ExecutionResult, Status
from resources.database.backends.base import (
    FETCH_BATCH,
    Column,
    Deadline,
    ForeignKey,
    ServerBackend,
    Table,
    drain,
    failed,
    finished,
    first_line,
    quote_double,
    sample_values_sql,
    timed_out,
)
from resources.database.urls import DatabaseURLError

PRIVILEGED_ROLES = ("pg_write_server_files", "pg_read_server_files", "pg_execute_server_program")

_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""
_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
_CONSTRAINTS = """
SELECT con.contype, ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       ref.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE n.nspname = current_schema() AND c.relname = %s AND con.contype IN ('p', 'f') ORDER BY con.conname
"""


class PostgresBackend(ServerBackend):
    dialect = "postgres"

    def _connect(self) -> Any:
        import psycopg

        try:
            connection = psycopg.connect(
                host=self.url.host,
                port=self.url.port,
                dbname=self.url.database,
                user=self.url.user or None,
                password=self.url.password,
                autocommit=True,
                connect_timeout=10,
                options=f"-c default_transaction_read_only=on -c statement_timeout={int(self.timeout_s * 1000)}",
            )
        except psycopg.Error as error:
            raise DatabaseURLError(
                f"{self.identity}: cannot connect: {self.url.scrub(first_line(error))}",
                hint="check that the server runs and the role may connect (password: PGPASSWORD or ~/.pgpass)",
            ) from None
        self._check_role(connection)
        return connection

    def _check_role(self, connection: Any) -> None:
        checks = ", ".join(f"pg_has_role(current_user, '{role}', 'USAGE')" for role in PRIVILEGED_ROLES)
        row = connection.execute(
            f"SELECT current_user, rolsuper, {checks} FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        held = [role for role, member in zip(PRIVILEGED_ROLES, row[2:], strict=True) if member]
        powers = (["superuser"] if row[1] else []) + held
        if not powers:
            return
        message = f"{self.identity}: role {row[0]!r} is {', '.join(powers)}: it could write files or change settings"
        try:
            self._privileged(message, who="role")
        except DatabaseURLError:
            connection.close()
            raise

    def _is_open(self, connection: Any) -> bool:
        return not connection.closed

    def run(self, sql: str, *, timeout_s: float, max_rows: int) -> ExecutionResult:
        import psycopg

        with self._lock:
            connection = self._connected()
            started = time.monotonic()
            cursor = connection.cursor()
            try:
                stream = cursor.stream(sql, size=FETCH_BATCH)
                first = list(itertools.islice(stream, FETCH_BATCH))
                columns = len(cursor.description or ())
                pending = [first]

                def fetch(size: int) -> list[tuple[Any, ...]]:
                    return pending.pop() if pending else list(itertools.islice(stream, size))

                rows, count = drain(fetch, deadline=started + timeout_s, max_rows=max_rows)
                return finished(rows, count, columns, started, self.identity)
            except Deadline:
                stream.close()  # cancels the statement on the server
                return timed_out(timeout_s, started, self.identity)
            except psycopg.errors.QueryCanceled:
                return timed_out(timeout_s, started, self.identity)
            except psycopg.OperationalError as error:
                self._drop()
                return failed(Status.ERROR, Cause.EXECUTION_ERROR, self._message(error), started, self.identity)
            except psycopg.Error as error:
                return self._failure(error, started)
            finally:
                cursor.close()

    def _failure(self, error: Any, started: float) -> ExecutionResult:
        sqlstate = getattr(error, "sqlstate", None) or ""
        message = self._message(error)
        if sqlstate in ("25006", "42501"):  # read-only transaction, insufficient privilege
            return failed(Status.REFUSED, Cause.NOT_READ_ONLY, message, started, self.identity)
        cause = Cause.SYNTAX_ERROR if sqlstate == "42601" else Cause.EXECUTION_ERROR
        return failed(Status.ERROR, cause, message, started, self.identity)

    def _message(self, error: Any) -> str:
        return self.url.scrub(first_line(error))

    def tables(self, *, sample_values: int) -> list[Table]:
        with self._lock:
            connection = self._connected()
            return [self._table(connection, name, sample_values) for (name,) in connection.execute(_TABLES)]

    def _table(self, connection: Any, name: str, sample_values: int) -> Table:
        columns = tuple(Column(n, t, bool(nn)) for n, t, nn in connection.execute(_COLUMNS, (name,)))
        primary_key: tuple[str, ...] = ()
        foreign_keys: list[ForeignKey] = []
        for kind, keys, target, references in connection.execute(_CONSTRAINTS, (name,)):
            if kind == "p":
                primary_key = tuple(keys)
            else:
                foreign_keys.append(ForeignKey(tuple(keys), target, tuple(references)))
        samples = {
            c.name: tuple(
                row[0] for row in connection.execute(sample_values_sql(name, c.name, sample_values, quote_double))
            )
            for c in (columns if sample_values > 0 else ())
        }
        return Table(name, columns, primary_key, tuple(foreign_keys), samples)
