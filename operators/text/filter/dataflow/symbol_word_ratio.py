from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged, nonzero

SYMBOLS = r"#|\.\.\.|…"
"""DataFlow's symbols ``#``, ``...`` and ``…``, each counted like ``str.count`` (non-overlapping)."""

WORD_PUNCT_TOKEN = r"\w+|[^\w\s]+"
"""A token of NLTK's ``WordPunctTokenizer``, which DataFlow uses for this rule alone. NLTK matches it with the
``regex`` package, whose Unicode ``\\w`` (letters, marks, digits, connectors) and ``\\s`` are the ones of polars,
not those of Python's ``re`` that DataFlow's other rules see: "é" written e + U+0301 is one token here."""


@register("dataflow_symbol_word_ratio")
class SymbolWordRatioFilter(Filter):
    """Reject texts with too many hashes and ellipses per word: tag clouds, hashtag spam, truncated teasers.

    Reproduces DataFlow's ``SymbolWordRatioFilter`` (``rule_based_filter.py``, default 0.4, the Gopher rule's
    symbols with a looser bound than Gopher's 0.1): the count of ``#``, ``...`` and ``…`` over the number of
    *WordPunct tokens* must stay below ``threshold`` (exclusive). Unlike DataFlow's other rules, the words here are
    NLTK ``WordPunctTokenizer`` tokens, where each run of punctuation is a token too, so the symbols inflate the
    denominator ("#tag" is 2 tokens, "wait..." is 2 and "....." counts one ``...``). Score
    ``dataflow_symbol_word_ratio``; null, empty and whitespace-only texts are rejected without one.
    """

    threshold: float = Field(0.4, ge=0, description="Symbols per WordPunct token a kept text stays below")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = pl.col(input_key)
        symbols = judged(input_key, text.str.count_matches(SYMBOLS) / nonzero(text.str.count_matches(WORD_PUNCT_TOKEN)))
        symbols = symbols.alias("dataflow_symbol_word_ratio")
        return {self.name: Rule(score=symbols, keep=symbols < self.threshold)}
