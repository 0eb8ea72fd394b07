from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register


@register("math_answer_repetition")
class MathAnswerRepetitionFilter(Filter):
    """Reject solutions that repeat themselves: too few distinct word n-grams among all of their n-grams.

    The score is distinct n-grams over all n-grams of the solution's words (1.0: nothing repeats); a model caught
    in a loop, writing the same step again and again, scores near 1 / the number of loops. A solution with fewer
    than ``n`` words scores 1.0. Rejection: ``math_answer_repetitive`` when the score is below ``min_unique_ratio``.
    DataFlow's ``ReasoningAnswerNgramFilter`` uses the same ratio (over question and answer together); this one
    reads the solution alone, so a long question cannot hide a looping answer. Vectorized: n-grams are built from
    shifted word lists inside polars.
    """

    key_docs = {"input_key": "the solution checked for repetition"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: answer n-gram filter)",)

    n: int = Field(5, ge=1, le=20, description="Words per n-gram")
    min_unique_ratio: float = Field(0.3, ge=0, le=1, description="Lowest share of distinct n-grams kept (inclusive)")

    def rules(self, *, input_key: Read = "solution") -> dict[str, Rule]:
        words = pl.col(input_key).fill_null("").str.to_lowercase().str.extract_all(r"\S+")
        grams = words.list.eval(
            pl.concat_str([pl.element().shift(-i) for i in range(self.n)], separator=" ").drop_nulls()
        )
        ratio = (
            pl.when(grams.list.len() == 0)
            .then(1.0)
            .otherwise(grams.list.n_unique() / grams.list.len())
            .alias("answer_unique_ngram_ratio")
        )
        return {"math_answer_repetitive": Rule(score=ratio, keep=ratio >= self.min_unique_ratio)}
