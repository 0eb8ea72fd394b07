from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Category, OpResult, Rule, apply_rules
from operators.database.protocol import Database
from operators.registry import register
from operators.sql.evaluate.sql_execution_match import SqlExecutionMatchEvaluator


@register("sql_execution_match_filter")
class SqlExecutionMatchFilter(SqlExecutionMatchEvaluator):
    """Keep rows whose query gives the gold query's result on every variant (``sql_execution_match`` as a filter).

    Rejection: ``sql_execution_mismatch``, with the reason (which variant, which query failed, how the rows differ)
    as the detail. Kept rows carry the match column (true) and an empty reason.
    """

    category: ClassVar[Category] = Category.FILTER
    example = "SqlExecutionMatchFilter()(df, input_sql_key='sql', input_gold_sql_key='gold_sql')"

    def run(self, *frames: pl.DataFrame, database: Database, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        judged = self.judge(df, database, **bound)
        match, reason = pl.col(bound["output_key"]), pl.col(bound["output_reason_key"])
        rule = Rule(score=match.cast(pl.Float64).alias(bound["output_key"]), keep=match, detail=reason)
        return apply_rules(judged, {"sql_execution_mismatch": rule})
