from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from operators.base import Evaluator, Write
from operators.general.sql_expression import parse_sql_expression, sql_columns
from operators.registry import register


@register("expression_score")
class ExpressionScoreEvaluator(Evaluator):
    """Score every row with a SQL expression over its columns, e.g. ``length(response) / length(instruction)``.

    The generic evaluator: the score lands in ``output_key`` as a Float64 column (deciding on it is a filter's
    job, e.g. ``row_filter``). The columns the expression reads are checked at compile time.
    """

    expression: str = Field(description="SQL expression evaluated by polars (pl.sql_expr), numeric")
    key_docs = {"output_key": "the expression's value"}

    @field_validator("expression")
    @classmethod
    def _parses(cls, value: str) -> str:
        return parse_sql_expression(value)

    def reads(self, keys: dict[str, str]) -> list[str]:
        return sql_columns(self.expression)

    def expressions(self, *, output_key: Write = "score") -> dict[str, pl.Expr]:
        return {output_key: pl.sql_expr(self.expression).cast(pl.Float64)}
