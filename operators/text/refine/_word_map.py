"""Rewrite every word of a text column through a Python function, calling it once per distinct word.

Stemmers, lemmatizers and spelling correctors are Python functions of one word. Called per word occurrence they
are the peers' bottleneck; a column's vocabulary is far smaller than its word count (Heaps' law), so the distinct
words are mapped once and the texts rewritten with polars expressions (:func:`rewrite_matches`).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from operators.text.refine._rewrite_matches import rewrite_matches

WORD = r"\p{L}[\p{L}\p{M}'\x{2019}]*"
"""A word to map: letters (with marks and inner apostrophes); digits and punctuation around it stay as written."""


def map_words(text: pl.Expr, function: Callable[[str], str]) -> pl.Expr:
    """``text`` with every word replaced by ``function(word)``."""

    def rewrite(texts: pl.Series) -> pl.Series:
        vocabulary = texts.str.extract_all(WORD).explode().drop_nulls().unique()
        mapping = {word: function(word) for word in vocabulary.to_list()}
        mapped = {word: new for word, new in mapping.items() if new != word}
        if not mapped:
            return texts
        keys, values = list(mapped), list(mapped.values())
        lookup = lambda match: match.replace_strict(keys, values, default=match)  # noqa: E731
        return pl.select(rewrite_matches(pl.lit(texts), WORD, lookup)).to_series().alias(texts.name)

    return text.map_batches(rewrite, return_dtype=pl.String)
