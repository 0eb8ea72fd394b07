from __future__ import annotations

import polars as pl
from pydantic import Field, model_validator

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import WORD, judged


@register("dataflow_sentence_number")
class SentenceNumberFilter(Filter):
    """Keep texts with between ``min_sentences`` and ``max_sentences`` sentences, both bounds inclusive.

    Reproduces DataFlow's ``SentenceNumberFilter`` (``rule_based_filter.py``, defaults 3 and 7500): a sentence is a
    match of ``\\b[^.!?\\n]+[.!?]*``. That counts the runs of text between ``.``, ``!``, ``?`` and newlines that
    hold a word character (Python's ``\\w``), which is how it is computed here: "Mr. Smith left." is two
    sentences, a line without punctuation is one, and a run of symbols alone ("-- ") is none. At least 3 sentences
    keeps fragments out; 7500 only catches runaway documents. Score ``dataflow_sentence_count``; null or empty
    texts are rejected without one.
    """

    min_sentences: int = Field(3, ge=0, description="Fewest sentences a kept text may have (inclusive)")
    max_sentences: int = Field(7500, ge=0, description="Most sentences a kept text may have (inclusive)")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> SentenceNumberFilter:
        if self.min_sentences > self.max_sentences:
            raise ValueError(f"min_sentences ({self.min_sentences}) exceeds max_sentences ({self.max_sentences})")
        return self

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        sentences = judged(input_key, pl.col(input_key).str.count_matches(f"[{WORD}][^.!?\n]*"))
        sentences = sentences.alias("dataflow_sentence_count")
        return {self.name: Rule(score=sentences, keep=sentences.is_between(self.min_sentences, self.max_sentences))}
