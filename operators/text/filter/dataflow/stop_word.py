from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text import stop_words
from operators.text.filter.dataflow._text import judged, lowercase_words, nonzero


@register("dataflow_stop_word")
class StopWordFilter(Filter):
    """Reject texts with too few stop words: word lists, keyword spam, tables, code - anything that is not prose.

    Reproduces DataFlow's ``StopWordFilter`` (``rule_based_filter.py``; its threshold has no default; 0.1 here,
    where English prose has 40-50% stop words by this list) with
    ``use_tokenizer=False``: of the words of ``text.lower().split()``, the share that are stop words must be
    *above* ``threshold`` (exclusive) and there must be more than 2 of them. DataFlow reads NLTK's English list
    (179 words, downloaded at run time); this filter uses scikit-learn's shipped list (318 words, see
    ``operators/text/stop_words.py``), so it finds somewhat more stop words in the same text. Words keep their
    punctuation, as in DataFlow ("the," is not a stop word). Score ``dataflow_stop_word_ratio``; null, empty and
    whitespace-only texts are rejected without one.
    """

    requires: ClassVar[tuple[str, ...]] = stop_words.REQUIRES
    extra: ClassVar[str | None] = stop_words.EXTRA

    threshold: float = Field(0.1, ge=0, le=1, description="Share of stop words a kept text must exceed")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        words = lowercase_words(input_key)
        count = words.list.eval(pl.element().is_in(stop_words.english_stop_words())).list.sum()
        share = judged(input_key, count / nonzero(words.list.len())).alias("dataflow_stop_word_ratio")
        return {self.name: Rule(score=share, keep=(share > self.threshold) & (count > 2))}
