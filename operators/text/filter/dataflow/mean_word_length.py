from __future__ import annotations

import polars as pl
from pydantic import Field, model_validator

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import WHITESPACE, judged, nonzero, python_round, word_count


@register("dataflow_mean_word_length")
class MeanWordLengthFilter(Filter):
    """Keep texts whose mean word length is at least ``min_length`` and below ``max_length``.

    Reproduces DataFlow's ``MeanWordLengthFilter`` (``rule_based_filter.py``, defaults 3 and 10): words are
    ``text.split()``, the mean is rounded to 2 decimals *before* the comparison (Python's ``round``, reproduced
    exactly), and the bounds are mixed: ``min_length`` inclusive, ``max_length`` exclusive, so a mean of 2.995
    rounds to 3.0 and is kept while 9.996 rounds to 10.0 and is rejected. Short means flag symbol and number soup,
    long ones URLs, hashes and glued words. Score ``dataflow_mean_word_length`` (rounded); null, empty and
    whitespace-only texts are rejected without one.
    """

    min_length: float = Field(3, ge=0, description="Smallest mean word length a kept text may have (inclusive)")
    max_length: float = Field(10, ge=0, description="Mean word length a kept text must stay below (exclusive)")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> MeanWordLengthFilter:
        if self.min_length > self.max_length:
            raise ValueError(f"min_length ({self.min_length}) is greater than max_length ({self.max_length})")
        return self

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        characters = pl.col(input_key).str.len_chars() - pl.col(input_key).str.count_matches(f"[{WHITESPACE}]")
        mean = judged(input_key, python_round(characters / nonzero(word_count(input_key)), 2))
        mean = mean.alias("dataflow_mean_word_length")
        return {self.name: Rule(score=mean, keep=(mean >= self.min_length) & (mean < self.max_length))}
