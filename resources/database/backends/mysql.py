"""MariaDB and MySQL, in read-only transactions with a statement time limit (PyMySQL).

The session is set to ``TRANSACTION READ ONLY`` in autocommit mode, so every statement is its own read-only
transaction, and to MariaDB's ``max_statement_time`` (MySQL: ``max_execution_time``, SELECT only); multiple
statements per call are off (PyMySQL's default) and ``LOCAL INFILE`` is off. Rows are read with an unbuffered cursor,
so a large result streams instead of filling memory.

A read-only transaction does not stop ``SELECT ... INTO OUTFILE``, ``LOAD_FILE()`` or ``SET GLOBAL`` for a user
with the FILE or SUPER privilege: the guard refuses those, and the connected user should not hold them. Connect
as a user with SELECT on the one database only (docs/sql.md); a privileged user is reported when the connection
opens, and refused with ``require_unprivileged``. MariaDB stops a recursive CTE after ``max_recursive_iterations``
(1,000 by default) rather than running into the time limit.
"""

from __future__ import annotations

import time
from typing import Any

from operators.database.protocol import Cause, ExecutionResult, Status
from resources.database.backends.base import (
    Column,
    Deadline,
    ForeignKey,
    ServerBackend,
    Table,
    drain,
    failed,
    finished,
    first_line,
    sample_values_sql,
    timed_out,
)
from resources.database.urls import DatabaseURLError

PRIVILEGES = ("FILE", "SUPER", "SHUTDOWN", "PROCESS", "RELOAD", "CREATE USER", "GRANT OPTION")
"""Global privileges a Text-to-SQL connection has no use for; any of them is reported."""

_TIMEOUT_ERRORS = {1969, 3024, 1317}  # MariaDB max_statement_time, MySQL max_execution_time, query interrupted
_REFUSED_ERRORS = {1792, 1142, 1227, 1044, 1045}  # read-only transaction, denied privileges
_SYNTAX_ERRORS = {1064, 1149}

_COLUMNS = """
SELECT table_name, column_name, column_type, is_nullable FROM information_schema.columns
WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position
"""
_KEYS = """
SELECT k.table_name, k.constraint_name, k.column_name, k.referenced_table_name, k.referenced_column_name
FROM information_schema.key_column_usage k
WHERE k.table_schema = DATABASE() AND (k.constraint_name = 'PRIMARY' OR k.referenced_table_name IS NOT NULL)
ORDER BY k.table_name, k.constraint_name, k.ordinal_position
"""
_TABLES = """
SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
"""


class MySQLBackend(ServerBackend):
    dialect = "mysql"

    def _connect(self) -> Any:
        import pymysql
        import pymysql.cursors

        try:
            connection = pymysql.connect(
                host=self.url.host,
                port=self.url.port,
                user=self.url.user or None,
                password=self.url.password or "",
                database=self.url.database,
                autocommit=True,
                charset="utf8mb4",
                cursorclass=pymysql.cursors.SSCursor,
                connect_timeout=10,
                read_timeout=self.timeout_s + 30,
                local_infile=False,
            )
        except pymysql.Error as error:
            raise DatabaseURLError(
                f"{self.identity}: cannot connect: {self.url.scrub(first_line(error))}",
                hint="check that the server runs and the user may connect (password: MYSQL_PWD)",
            ) from None
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            mariadb = "mariadb" in str(cursor.fetchall()[0][0]).lower()
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            if mariadb:
                cursor.execute(f"SET SESSION max_statement_time = {float(self.timeout_s)}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {int(self.timeout_s * 1000)}")
            self._check_privileges(cursor)
        return connection

    def _check_privileges(self, cursor: Any) -> None:
        cursor.execute("SHOW GRANTS")
        grants = " ".join(str(row[0]).upper() for row in cursor.fetchall())
        on_everything = [g for g in grants.split("GRANT ") if " ON *.* " in g]
        held = [p for p in PRIVILEGES if any(p in g or "ALL PRIVILEGES" in g for g in on_everything)]
        if not held:
            return
        message = f"{self.identity}: the user holds {', '.join(held)}: it could read or write files or change settings"
        self._privileged(message, who="user")

    def _is_open(self, connection: Any) -> bool:
        return connection.open

    def run(self, sql: str, *, timeout_s: float, max_rows: int) -> ExecutionResult:
        import pymysql

        with self._lock:
            connection = self._connected()
            started = time.monotonic()
            cursor = connection.cursor()
            try:
                cursor.execute(sql)
                columns = len(cursor.description or ())
                rows, count = drain(cursor.fetchmany, deadline=started + timeout_s, max_rows=max_rows)
                cursor.close()
                return finished(rows, count, columns, started, self.identity)
            except Deadline:
                self._abandon(cursor)
                return timed_out(timeout_s, started, self.identity)
            except pymysql.Error as error:
                return self._failure(error, started, timeout_s)

    def _failure(self, error: Any, started: float, timeout_s: float) -> ExecutionResult:
        code = error.args[0] if error.args and isinstance(error.args[0], int) else 0
        message = self.url.scrub(first_line(error.args[1] if len(error.args) > 1 else error))
        if code in _TIMEOUT_ERRORS:
            return timed_out(timeout_s, started, self.identity)
        if code in _REFUSED_ERRORS:
            return failed(Status.REFUSED, Cause.NOT_READ_ONLY, message, started, self.identity)
        if code == 0 or code >= 2000:  # client-side: lost connection, packet errors
            self._drop()
        cause = Cause.SYNTAX_ERROR if code in _SYNTAX_ERRORS else Cause.EXECUTION_ERROR
        return failed(Status.ERROR, cause, message, started, self.identity)

    def _abandon(self, cursor: Any) -> None:
        """Read what is left of a result given up on: the server's own time limit (the same as ours, started a
        moment earlier) ends the statement, so this is short; the connection is then ready for the next one."""
        import pymysql

        try:
            cursor.close()
        except pymysql.Error:
            if not self._connection.open:
                self._drop()

    def tables(self, *, sample_values: int) -> list[Table]:
        with self._lock:
            connection = self._connected()
            with connection.cursor() as cursor:
                cursor.execute(_TABLES)
                names = sorted(row[0] for row in cursor.fetchall())
                cursor.execute(_COLUMNS)
                columns: dict[str, list[Column]] = {}
                for table, name, kind, nullable in cursor.fetchall():
                    columns.setdefault(table, []).append(Column(name, kind, nullable == "NO"))
                cursor.execute(_KEYS)
                primary: dict[str, list[str]] = {}
                foreign: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
                for table, constraint, column, target, target_column in cursor.fetchall():
                    if constraint == "PRIMARY":
                        primary.setdefault(table, []).append(column)
                    else:
                        foreign.setdefault((table, constraint), []).append((column, target, target_column))
                tables = []
                for name in names:
                    keys = tuple(
                        ForeignKey(tuple(c for c, _, _ in refs), refs[0][1], tuple(r for _, _, r in refs))
                        for (table, _), refs in foreign.items()
                        if table == name
                    )
                    shown = columns[name] if sample_values > 0 else []
                    samples = {c.name: self._samples(cursor, name, c.name, sample_values) for c in shown}
                    tables.append(Table(name, tuple(columns[name]), tuple(primary.get(name, ())), keys, samples))
                return tables

    @staticmethod
    def _samples(cursor: Any, table: str, column: str, limit: int) -> tuple[Any, ...]:
        cursor.execute(sample_values_sql(table, column, limit, _quote))
        return tuple(row[0] for row in cursor.fetchall())


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"
