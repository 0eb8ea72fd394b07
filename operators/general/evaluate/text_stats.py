from __future__ import annotations

import polars as pl

from operators.base import Evaluator, Read, Write
from operators.registry import register


@register("text_stats")
class TextStatsEvaluator(Evaluator):
    """Score basic text statistics: characters, words (whitespace-separated) and mean word length."""

    def expressions(
        self,
        *,
        input_key: Read = "text",
        char_count_key: Write = "char_count",
        word_count_key: Write = "word_count",
        mean_word_length_key: Write = "mean_word_length",
    ) -> dict[str, pl.Expr]:
        text = pl.col(input_key)
        words = text.str.extract_all(r"\S+")
        return {
            char_count_key: text.str.len_chars().cast(pl.Int64),
            word_count_key: words.list.len().cast(pl.Int64),
            mean_word_length_key: words.list.eval(pl.element().str.len_chars()).list.mean(),
        }
