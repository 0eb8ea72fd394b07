"""Filters of the math domain that also write columns (the answer graded, the vote's winner and share).

``Filter.prepare`` adds helper columns that every output drops; here ``prepare`` adds the written columns too, and
only the helpers (named ``__...``) are dropped, so kept and rejected rows both carry what the decision was made on.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from operators.base import Filter, OpResult, apply_rules

HELPER = "__"


class _WritingFilter(Filter):
    """A filter whose ``prepare`` adds its ``Write`` columns next to ``__`` helper columns for the rules."""

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        prepared = self.prepare(df, bound)
        result = apply_rules(prepared, self.rules(**bound))
        helpers = [c for c in prepared.columns if c.startswith(HELPER) and c not in df.columns]
        return replace(result, kept=result.kept.drop(helpers), rejected=result.rejected.drop(helpers))


def group_labels(column: pl.Series) -> list[str | None]:
    """One label per row for grouping: a list column (``_parent_ids``) joined, anything else as text."""
    if isinstance(column.dtype, pl.List):
        return column.cast(pl.List(pl.String)).list.join(",").to_list()
    return column.cast(pl.String).to_list()


def grouped(labels: list[str | None]) -> dict[str | None, list[int]]:
    """Row positions by group label, in order of first appearance."""
    groups: dict[str | None, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(label, []).append(position)
    return groups
