from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import WHITESPACE, judged, word_count

UPPER = r"\p{Uppercase}"
LOWER = r"[\p{Lowercase}\p{Lt}]"
IN_WORD = f"[^{WHITESPACE}]*"

WORDS_WITH_UPPER = f"{IN_WORD}{UPPER}{IN_WORD}"
"""A whole word holding an uppercase letter: the word runs from the first such match to its end."""

WORDS_WITH_UPPER_AND_LOWER = f"{IN_WORD}(?:{UPPER}{IN_WORD}{LOWER}|{LOWER}{IN_WORD}{UPPER}){IN_WORD}"
"""A whole word holding an uppercase letter and a lowercase or titlecase one."""


@register("dataflow_capital_words")
class CapitalWordsFilter(Filter):
    """Reject texts with too many all-caps words: shouting, spam, headers and boilerplate.

    Reproduces DataFlow's ``CapitalWordsFilter`` (``rule_based_filter.py``, defaults 0.2 and ``use_tokenizer=False``;
    the NLTK tokenizer mode is not reproduced): the share of ``text.split()`` words for which ``str.isupper()``
    holds may be at most ``threshold`` (inclusive). ``isupper`` means an uppercase letter and no lowercase or
    titlecase one, so a one-letter "A" or "I" and "COVID-19" are capital words while digits and symbols alone are
    not; they are counted as the words with an uppercase letter less those that also have a lowercase one. A text
    with no words has a share of 0 and is kept, as in DataFlow. Score ``dataflow_capital_word_ratio``; null and
    empty texts are rejected without one.
    """

    threshold: float = Field(0.2, ge=0, description="Largest share of all-caps words a kept text may have (inclusive)")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = pl.col(input_key)
        capitals = text.str.count_matches(WORDS_WITH_UPPER) - text.str.count_matches(WORDS_WITH_UPPER_AND_LOWER)
        share = judged(input_key, capitals / word_count(input_key).clip(lower_bound=1))  # no words: 0, kept
        share = share.alias("dataflow_capital_word_ratio")
        return {self.name: Rule(score=share, keep=share <= self.threshold)}
