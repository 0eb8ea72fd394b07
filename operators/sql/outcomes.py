"""Filters whose decisions are computed row by row in Python (running SQL, comparing results): the decisions become
helper columns and the shared rule machinery builds the kept and rejected rows, with reason, score and detail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from operators.base import OpResult, Rule, apply_prepared_rules

_REASON, _DETAIL, _SCORE = "__sql_reason", "__sql_detail", "__sql_score"


@dataclass(frozen=True)
class Outcome:
    """One row's decision: ``reason`` None keeps it."""

    reason: str | None = None
    detail: str | None = None
    score: float | None = None


def decide(df: pl.DataFrame, outcomes: Sequence[Outcome], reasons: Sequence[str], score: str) -> OpResult:
    """Kept and rejected rows from per-row outcomes; ``reasons`` lists every reason an outcome may carry (in the
    order the rules are reported) and ``score`` names the score column of the step's score table."""
    unknown = {o.reason for o in outcomes} - {None, *reasons}
    if unknown:
        raise ValueError(f"outcome reasons {sorted(unknown)} are not among the declared reasons {list(reasons)}")
    prepared = df.with_columns(
        pl.Series(_REASON, [o.reason for o in outcomes], dtype=pl.String),
        pl.Series(_DETAIL, [o.detail for o in outcomes], dtype=pl.String),
        pl.Series(_SCORE, [o.score for o in outcomes], dtype=pl.Float64),
    )
    rules = {
        reason: Rule(score=pl.col(_SCORE).alias(score), keep=pl.col(_REASON).ne_missing(reason), detail=pl.col(_DETAIL))
        for reason in reasons
    }
    return apply_prepared_rules(df, prepared, rules)
