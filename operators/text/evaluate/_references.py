"""Reading a reference column that holds one reference (a string) or several (a list of strings) per row, for the
reference-based metrics."""

from __future__ import annotations

import polars as pl


def references_of(df_column: pl.Series) -> list[list[str] | None]:
    """Each row's references as a list (None where there is none)."""
    if df_column.dtype == pl.String:
        return [None if value is None else [value] for value in df_column.to_list()]
    return [None if not values else [v for v in values if v is not None] or None for values in df_column.to_list()]


def pairs(hypotheses: pl.Series, references: pl.Series) -> list[tuple[str, list[str]] | None]:
    """(hypothesis, references) per row, None where either is missing: a row that cannot be scored gets null."""
    return [
        None if hypothesis is None or refs is None else (hypothesis, refs)
        for hypothesis, refs in zip(hypotheses.to_list(), references_of(references), strict=True)
    ]
