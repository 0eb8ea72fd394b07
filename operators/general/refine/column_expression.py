from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from operators.base import Refiner, Write
from operators.general.sql_expression import parse_sql_expression, sql_columns
from operators.registry import register


@register("column_expression")
class ColumnExpressionRefiner(Refiner):
    """Compute a column from a SQL expression over other columns, e.g. ``length(text) / 100``.

    The columns the expression reads are found by parsing it, so a pipeline checks them at compile time like any
    other key.
    """

    expression: str = Field(description="SQL expression evaluated by polars (pl.sql_expr), e.g. 'upper(title)'")

    @field_validator("expression")
    @classmethod
    def _parses(cls, value: str) -> str:
        return parse_sql_expression(value)

    def reads(self, keys: dict[str, str]) -> list[str]:
        return sql_columns(self.expression)

    def expressions(self, *, output_key: Write = "value") -> dict[str, pl.Expr]:
        return {output_key: pl.sql_expr(self.expression)}
