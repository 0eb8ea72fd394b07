from __future__ import annotations

import polars as pl
from pydantic import Field, model_validator

from operators.base import Filter, Read, Rule
from operators.registry import register


@register("word_count")
class WordCountFilter(Filter):
    """Keep rows whose text has between ``min_words`` and ``max_words`` words, both bounds inclusive.

    Words are maximal runs of non-whitespace characters. Rejections: ``word_count_too_short``,
    ``word_count_too_long``; the score is the word count.
    """

    min_words: int = Field(5, ge=0, description="Fewest words a kept row may have (inclusive)")
    max_words: int = Field(100_000, ge=1, description="Most words a kept row may have (inclusive)")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> WordCountFilter:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) is greater than max_words ({self.max_words})")
        return self

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        words = pl.col(input_key).str.count_matches(r"\S+").alias("word_count")
        return {
            "word_count_too_short": Rule(score=words, keep=words >= self.min_words),
            "word_count_too_long": Rule(score=words, keep=words <= self.max_words),
        }
