from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import TOKEN, judged

STOPS = "\n\u2013.!?,;\u2022/|\u2026"
"""Where DataFlow ends a run of words: newlines, the en dash (U+2013) and ``. ! ? , ; • / | …``. Colons, quotes and
brackets do not."""


@register("dataflow_no_punc")
class NoPuncFilter(Filter):
    """Reject texts with a long run of words and no punctuation: keyword lists, tag dumps, unpunctuated transcripts.

    Reproduces DataFlow's ``NoPuncFilter`` (``rule_based_filter.py``, default 112): the text is split into lines on
    ``\\n`` and each line on the characters of :data:`STOPS`; the longest piece may have at most ``threshold`` words
    of ``str.split()`` (inclusive: 112 words are kept). A whitespace-only text has 0 and is kept, as in DataFlow.
    Score ``dataflow_max_words_between_punctuation``; null and empty texts are rejected without one.
    """

    threshold: int = Field(112, ge=0, description="Most words between two punctuation marks in a kept text")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        pieces = pl.col(input_key).str.extract_all(f"[^{STOPS}]+")
        longest = pieces.list.eval(pl.element().str.count_matches(TOKEN)).list.max().fill_null(0)
        longest = judged(input_key, longest).alias("dataflow_max_words_between_punctuation")
        return {self.name: Rule(score=longest, keep=longest <= self.threshold)}
