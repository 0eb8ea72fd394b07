"""The English stop-word list the text operators share: scikit-learn's copy of the Glasgow Information Retrieval
Group's list (318 words), shipped inside the package, so that nothing is downloaded (NLTK's list is a separate
data download, which DataFlow's operators fetch at run time)."""

from __future__ import annotations

from functools import cache

REQUIRES = ("sklearn",)
EXTRA = "text"
"""scikit-learn comes with sentence-transformers, in the ``text`` extra."""


@cache
def english_stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS)
