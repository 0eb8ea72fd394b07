"""What the operators that read token log-probabilities (``perplexity``, ``ifd_score``) share: the engine checked
for ``score_tokens``, perplexity from a text's token scores, and the rows whose scoring failed put aside as every
LLM step puts them (``_reject_rule = "llm_<error kind>"``, the message in ``_reject_detail``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from operators.base import OpResult
from operators.columns import REJECT_DETAIL, REJECT_RULE, REJECT_SCORE
from operators.errors import DataflowError
from operators.llm.protocol import LLM, TokenScores

Failure = tuple[str, str] | None
"""(reject rule, detail) of a row whose scoring failed; None for a row that is kept."""


def token_scorer(llm: Any) -> LLM:
    """The engine, or a clear refusal when it cannot score tokens (an ``LLM`` written before ``score_tokens``)."""
    if callable(getattr(llm, "score_tokens", None)):
        return llm
    raise DataflowError(
        f"the LLM engine {getattr(llm, 'identity', type(llm).__name__)} cannot return token log-probabilities",
        hint="perplexity and IFD need LLM.score_tokens (operators/llm/protocol.py), which LLMResource offers on "
        "every backend; or judge quality with prompted_evaluator and the templates of operators/text/templates.py",
    )


def perplexity(scores: TokenScores) -> float | None:
    """exp(-mean log p) of the tokens; None for a failure or no tokens."""
    if not scores.ok or not scores.logprobs:
        return None
    return math.exp(-sum(scores.logprobs) / len(scores.logprobs))


def failure(scores: TokenScores | None) -> Failure:
    return None if scores is None or scores.ok else (f"llm_{scores.error}", scores.error_message or str(scores.error))


def set_aside(df: pl.DataFrame, failures: Sequence[Failure]) -> OpResult:
    """The rows without a failure kept; the others rejected with their reason (no score)."""
    failed = pl.Series([f is not None for f in failures], dtype=pl.Boolean)
    rejected = df.filter(failed).with_columns(
        pl.Series(REJECT_RULE, [f[0] for f in failures if f], dtype=pl.String),
        pl.lit(None, pl.Float64).alias(REJECT_SCORE),
        pl.Series(REJECT_DETAIL, [f[1] for f in failures if f], dtype=pl.String),
    )
    return OpResult(kept=df.filter(~failed), rejected=rejected)
