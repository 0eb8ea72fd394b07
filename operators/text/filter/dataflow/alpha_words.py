from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import WHITESPACE, judged, nonzero, word_count


@register("dataflow_alpha_words")
class AlphaWordsFilter(Filter):
    """Reject texts in which too few words hold a letter: number tables, symbol runs, encoded data.

    Reproduces DataFlow's ``AlphaWordsFilter`` (``rule_based_filter.py``; its threshold has no default, 0.8 here as
    in Gopher's rule) with
    ``use_tokenizer=False``: of the words of ``text.split()``, the share holding an ASCII letter (``[a-zA-Z]``) must
    be *above* ``threshold`` (exclusive). ``use_tokenizer=True`` (NLTK's ``word_tokenize``, whose Punkt data DataFlow
    downloads at run time) is not offered. The ASCII test is DataFlow's: words in other scripts count as without a
    letter, so use it on English text (Gopher's version of the rule is in ``gopher_quality``).
    Score ``dataflow_alpha_word_ratio``; null, empty and whitespace-only texts are rejected without one.
    """

    threshold: float = Field(0.8, ge=0, le=1, description="Share of words with an ASCII letter a kept text must exceed")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        alpha = pl.col(input_key).str.count_matches(f"[^{WHITESPACE}]*[a-zA-Z][^{WHITESPACE}]*")  # one per word
        share = judged(input_key, alpha / nonzero(word_count(input_key))).alias("dataflow_alpha_word_ratio")
        return {self.name: Rule(score=share, keep=share > self.threshold)}
