"""The calls Text-to-SQL operators make on a database, whatever engine serves it.

``resources.database`` implements them over SQLite, PostgreSQL and MariaDB/MySQL, each opened read-only, with every
statement checked before it runs and bounded in time and rows fetched. Operators never see a connection: they ask
for a named database (a ``db_id``) and get an :class:`ExecutionResult` per variant of it. A refusal, a timeout or
an engine error is a result with a reason, never an exception, so that a bad query is a rejected row, not a failed
step.

A ``db_id`` may name several databases with one schema and different contents (the "test-suite" variants of Zhong
et al. 2020, "Semantic Evaluation for Text-to-SQL with Distilled Test Suites"): a judgement on a query's results
has to hold on all of them, so that a wrong query that happens to give the gold answer on one database is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from operators.engines import Usage


class Status(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    """The statement was not run: it did not parse as exactly one read-only query in the engine's dialect."""
    TIMEOUT = "timeout"
    """The statement ran past the per-query time limit and was stopped."""
    ERROR = "error"
    """The engine rejected the statement (unknown column, type error...)."""


class Cause(StrEnum):
    """Why a statement did not give a result: the reasons operators reject rows with (``sql_<cause>``)."""

    SYNTAX_ERROR = "syntax_error"
    NOT_READ_ONLY = "not_read_only"
    TIMEOUT = "timeout"
    EXECUTION_ERROR = "execution_error"


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one statement on one database.

    ``rows`` holds at most the engine's ``max_rows`` rows; the statement is still run to its end (within the time
    limit) so that ``row_count`` is the full count and a runaway statement is stopped by the clock, not hidden by
    the cap. ``truncated`` says that rows beyond the cap were counted and dropped.
    """

    status: Status
    cause: Cause | None = None
    reason: str | None = None
    """What went wrong, in words (the engine's message with credentials removed)."""
    rows: tuple[tuple[Any, ...], ...] = ()
    columns: int = 0
    row_count: int = 0
    truncated: bool = False
    elapsed_s: float = 0.0
    database: str = ""
    """The identity (URL without credentials) of the database the statement ran on."""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


@runtime_checkable
class Database(Protocol):
    """Named databases, each with one or more variants, queried read-only."""

    @property
    def identity(self) -> str:
        """Every database by ``db_id``, as URLs without credentials, with the limits statements run under."""
        ...

    def db_ids(self) -> list[str]:
        """The configured database names."""
        ...

    def variants(self, db_id: str) -> list[str]:
        """The identities (URLs without credentials) of ``db_id``'s variants, in configuration order."""
        ...

    def dialect(self, db_id: str) -> str:
        """The sqlglot dialect of ``db_id``'s engine: ``sqlite``, ``postgres`` or ``mysql``."""
        ...

    def execute(self, db_id: str, sql: str, *, variant: int = 0) -> ExecutionResult:
        """Run one read-only query on one variant of ``db_id``."""
        ...

    def execute_all(self, db_id: str, sql: str) -> list[ExecutionResult]:
        """Run one read-only query on every variant of ``db_id``; stops at the first variant where it fails."""
        ...

    def tables(self, db_id: str) -> dict[str, list[str]]:
        """``db_id``'s tables and their columns, in schema order (from the first variant)."""
        ...

    def schema(self, db_id: str, *, sample_values: int = 3) -> str:
        """``db_id``'s schema for prompts: CREATE TABLE statements in its dialect with keys and, as comments, up to
        ``sample_values`` distinct values per column (from the first variant)."""
        ...

    def usage(self) -> Usage: ...
