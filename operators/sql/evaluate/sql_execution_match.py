from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Evaluator, OpResult, Read, Write
from operators.database.protocol import Database
from operators.progress import track
from operators.registry import register
from operators.sql.execution import ExecutionMatcher, Match


@register("sql_execution_match")
class SqlExecutionMatchEvaluator(Evaluator):
    """Whether a query gives the gold query's result on every variant of its database (Spider's execution match).

    Results are compared as multisets of rows (in order when the gold query has an outermost ORDER BY), with column
    names ignored and columns permuted freely, numbers equal within a relative 1e-6 and NULL equal only to NULL; a
    query that is refused, fails or times out matches nothing (``operators.sql.execution`` has the details). The
    reason column says why a pair does not match (which variant, which query failed, or how the rows differ) and is
    null for a match. Each gold query runs once per variant per step, however many rows share it.

    DataFlow compares results by column names (``SELECT COUNT(*)`` never matches ``SELECT COUNT(id) AS n``) and on one
    database only.
    """

    engines: ClassVar[tuple[str, ...]] = ("database",)
    key_method: ClassVar[str] = "judge"
    key_docs: ClassVar[dict[str, str]] = {
        "input_sql_key": "the predicted SQL",
        "input_gold_sql_key": "the gold (reference) SQL",
        "input_db_id_key": "the database both run on",
        "output_key": "true when the results match on every variant",
        "output_reason_key": "why they do not match (null when they do)",
    }
    references = (
        "Yu et al. 2018, Spider, arXiv:1809.08887",
        "Zhong et al. 2020, Semantic Evaluation for Text-to-SQL with Distilled Test Suites, arXiv:2010.02840",
    )
    example = "SqlExecutionMatchEvaluator()(df, input_sql_key='sql', input_gold_sql_key='gold_sql')"

    def judge(
        self,
        df: pl.DataFrame,
        database: Database,
        *,
        input_sql_key: Read = "sql",
        input_gold_sql_key: Read = "gold_sql",
        input_db_id_key: Read = "db_id",
        output_key: Write = "execution_match",
        output_reason_key: Write = "execution_match_reason",
    ) -> pl.DataFrame:
        matcher = ExecutionMatcher(database)
        known = set(database.db_ids())
        tracker = track("sql_execution_match", df.height)
        matches = []
        for sql, gold, db_id in zip(df[input_sql_key], df[input_gold_sql_key], df[input_db_id_key], strict=True):
            if db_id not in known:
                match = Match(False, f"no database named {db_id!r}")
            elif not sql or not gold:
                match = Match(False, "no SQL" if not sql else "no gold SQL")
            else:
                match = matcher.match(db_id, sql, gold)
            matches.append(match)
            tracker.advance()
        return df.with_columns(
            pl.Series(output_key, [m.equal for m in matches], dtype=pl.Boolean),
            pl.Series(output_reason_key, [m.reason for m in matches], dtype=pl.String),
        )

    def run(self, *frames: pl.DataFrame, database: Database, **keys: str) -> OpResult:
        (df,) = frames
        return OpResult(kept=self.judge(df, database, **self.bind_keys(keys)))
