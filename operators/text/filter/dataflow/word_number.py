from __future__ import annotations

from pydantic import Field, model_validator

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import word_count


@register("dataflow_word_number")
class WordNumberFilter(Filter):
    """Keep texts with at least ``min_words`` and fewer than ``max_words`` words.

    Reproduces DataFlow's ``WordNumberFilter`` (``word_number_filter.py``; defaults 20 and 100000 from its
    signature, where older ``get_desc`` texts say 5 and 100): words are ``text.split()``, the lower bound is
    inclusive and the upper bound *exclusive* (``min_words <= n < max_words``), unlike DataFlow's sentence bounds.
    DataFlow counts a null text as 0 words instead of rejecting it, so with ``min_words=0`` a null text is kept.
    20 words keeps fragments and titles out; 100000 only catches runaway documents. Score ``dataflow_word_count``.
    """

    min_words: int = Field(20, ge=0, description="Fewest words a kept text may have (inclusive)")
    max_words: int = Field(100_000, ge=1, description="Word count a kept text must stay below (exclusive)")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> WordNumberFilter:
        if self.min_words >= self.max_words:
            raise ValueError(f"min_words ({self.min_words}) must be less than max_words ({self.max_words})")
        return self

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        words = word_count(input_key).fill_null(0).alias("dataflow_word_count")
        return {self.name: Rule(score=words, keep=(words >= self.min_words) & (words < self.max_words))}
