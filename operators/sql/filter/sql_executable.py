from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Filter, OpResult, Read
from operators.database.protocol import Database
from operators.progress import track
from operators.registry import register
from operators.sql.execution import describe_failure
from operators.sql.outcomes import Outcome, decide

REASONS = ("sql_unknown_database", "sql_syntax_error", "sql_not_read_only", "sql_timeout", "sql_execution_error")


@register("sql_executable")
class SqlExecutableFilter(Filter):
    """Keep rows whose SQL runs as a read-only query, within the time limit, on every variant of its database.

    Rejections: ``sql_syntax_error`` (does not parse in the database's dialect, or the engine says so),
    ``sql_not_read_only`` (refused by the statement guard or by the read-only session: writes, several statements,
    file access, settings, sleeps...), ``sql_timeout`` (stopped by the time limit: runaway joins or recursion),
    ``sql_execution_error`` (unknown column, type error...), ``sql_unknown_database`` (the row's ``db_id`` is not
    configured). The detail names the variant and the engine's message; the score is the seconds spent. A query is
    run once per distinct (database, SQL) pair of the batch.

    DataFlow's ``SQLExecutionFilter`` checks that the text starts with SELECT (``WITH ... DELETE`` passes), runs it
    on a read-write SQLite connection with no time limit, and only on one database.
    """

    engines: ClassVar[tuple[str, ...]] = ("database",)
    key_method: ClassVar[str] = "judge"
    key_docs: ClassVar[dict[str, str]] = {
        "input_sql_key": "the SQL query to check",
        "input_db_id_key": "the name of the database (a configured db_id) the query is for",
    }
    references = ("Yu et al. 2018, Spider, arXiv:1809.08887", "Liang et al. 2025, DataFlow, arXiv:2512.16676")
    example = "SqlExecutableFilter()(df, input_sql_key='sql', input_db_id_key='db_id')"

    def judge(
        self, df: pl.DataFrame, database: Database, *, input_sql_key: Read = "sql", input_db_id_key: Read = "db_id"
    ) -> OpResult:
        known = set(database.db_ids())
        tracker = track("sql_executable", df.height)
        seen: dict[tuple[str, str], Outcome] = {}
        outcomes = []
        for sql, db_id in zip(df[input_sql_key], df[input_db_id_key], strict=True):
            if db_id not in known:
                outcome = Outcome("sql_unknown_database", f"no database named {db_id!r}")
            elif not sql or not sql.strip():
                outcome = Outcome("sql_syntax_error", "no SQL")
            else:
                if (db_id, sql) not in seen:
                    seen[(db_id, sql)] = _outcome(database, db_id, sql)
                outcome = seen[(db_id, sql)]
            outcomes.append(outcome)
            tracker.advance(errors=int(outcome.reason is not None))
        return decide(df, outcomes, REASONS, score="sql_elapsed_s")

    def run(self, *frames: pl.DataFrame, database: Database, **keys: str) -> OpResult:
        (df,) = frames
        return self.judge(df, database, **self.bind_keys(keys))


def _outcome(database: Database, db_id: str, sql: str) -> Outcome:
    results = database.execute_all(db_id, sql)
    elapsed = sum(r.elapsed_s for r in results)
    last = results[-1]
    if last.ok:
        return Outcome(score=elapsed)
    return Outcome(f"sql_{last.cause}", describe_failure(last), elapsed)
