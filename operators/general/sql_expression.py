"""SQL expressions over a row's columns (polars' ``pl.sql_expr``), shared by the generic expression operators."""

from __future__ import annotations

import polars as pl


def parse_sql_expression(expression: str) -> str:
    """``expression`` if polars can parse it; else a ValueError naming it (pydantic turns it into a parameter
    error)."""
    try:
        pl.sql_expr(expression)
    except Exception as error:  # polars raises several error types for bad SQL
        raise ValueError(f"cannot parse expression {expression!r}: {error}") from error
    return expression


def sql_columns(expression: str) -> list[str]:
    """The columns an expression reads, so that a pipeline checks them at compile time like any other key."""
    return pl.sql_expr(expression).meta.root_names()
