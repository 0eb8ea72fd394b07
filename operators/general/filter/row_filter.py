from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from operators.base import Filter, Rule
from operators.general.sql_expression import parse_sql_expression, sql_columns
from operators.registry import register


@register("row_filter")
class RowFilter(Filter):
    """Keep the rows for which a SQL condition over their columns holds, e.g. ``score >= 4 AND lang = 'en'``.

    A row whose condition is null (a null column) is rejected, not waved through. Rejections carry ``reason``
    (default ``row_filter``), and the score is 1.0 where the condition held, 0.0 where not. The columns the
    condition reads are found by parsing it, so a pipeline checks them at compile time.
    """

    condition: str = Field(description="SQL boolean expression evaluated by polars (pl.sql_expr)")
    reason: str = Field("row_filter", pattern=r"^[a-z][a-z0-9_]*$", description="Rejection reason (snake_case)")

    @field_validator("condition")
    @classmethod
    def _parses(cls, value: str) -> str:
        return parse_sql_expression(value)

    def reads(self, keys: dict[str, str]) -> list[str]:
        return sql_columns(self.condition)

    def rules(self) -> dict[str, Rule]:
        holds = pl.sql_expr(self.condition).cast(pl.Boolean)
        return {self.reason: Rule(score=holds.cast(pl.Float64).alias(self.reason), keep=holds)}
