from __future__ import annotations

from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged, lowercase_words, nonzero


@register("dataflow_unique_words")
class UniqueWordsFilter(Filter):
    """Reject texts that repeat a few words over and over: keyword stuffing, generated filler, tables of tokens.

    Reproduces DataFlow's ``UniqueWordsFilter`` (``rule_based_filter.py``, default 0.1): distinct words of
    ``text.lower().split()`` over all of them must be *above* ``threshold`` (exclusive: exactly 0.1 is rejected).
    Punctuation stays on the words, so "end." and "end" are two words. Score ``dataflow_unique_word_ratio``; null,
    empty and whitespace-only texts are rejected without one.
    """

    threshold: float = Field(0.1, ge=0, description="Share of distinct words a kept text must exceed")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        words = lowercase_words(input_key)
        share = judged(input_key, words.list.n_unique() / nonzero(words.list.len())).alias("dataflow_unique_word_ratio")
        return {self.name: Rule(score=share, keep=share > self.threshold)}
