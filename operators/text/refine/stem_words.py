from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.errors import MissingDependencyError
from operators.registry import register
from operators.text.refine._word_map import map_words


@register("stem_words")
class StemWordsRefiner(Refiner):
    """Reduce every word to its stem ("running" -> "run", "studies" -> "studi") or, with WordNet data, its lemma.

    Covers DataFlow's ``StemmingLemmatizationRefiner`` (NLTK's ``PorterStemmer`` or ``WordNetLemmatizer``). The
    stemmers are code in the ``nltk`` package: ``porter`` (Porter 1980) and ``snowball`` (Porter's English
    Snowball stemmer, "Porter2", the default); ``lemma`` needs NLTK's WordNet corpus, a separate data download that
    DataFlow fetches at run time: here the operator refuses to start unless the corpus is already installed
    (``NLTK_DATA`` or NLTK's usual folders). Stemmers lower-case their output. Each distinct word of the column is
    stemmed once; the rest of the text (digits, punctuation, whitespace) stays as written.
    """

    requires: ClassVar[tuple[str, ...]] = ("nltk",)
    extra: ClassVar[str | None] = "text"
    references: ClassVar[tuple[str, ...]] = (
        "Porter, An algorithm for suffix stripping, Program 14(3), 1980",
        "Porter, Snowball: A language for stemming algorithms, 2001 (the English 'Porter2' stemmer)",
    )

    method: Literal["snowball", "porter", "lemma"] = Field(
        "snowball", description="snowball (Porter2), porter, or lemma (WordNet lemmatizer; needs NLTK's wordnet data)"
    )

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        if self.method == "lemma":
            import nltk

            try:
                nltk.data.find("corpora/wordnet")
            except LookupError:
                raise MissingDependencyError(
                    "stem_words(method='lemma') needs NLTK's WordNet corpus, which is not installed",
                    hint="on a machine with network: python -m nltk.downloader -d <dir> wordnet, then set "
                    "NLTK_DATA=<dir>; or use method='snowball'",
                ) from None

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: map_words(pl.col(input_key), self._function())}

    def _function(self) -> Callable[[str], str]:
        from nltk.stem import PorterStemmer, SnowballStemmer, WordNetLemmatizer

        if self.method == "lemma":
            return WordNetLemmatizer().lemmatize
        return (SnowballStemmer("english") if self.method == "snowball" else PorterStemmer()).stem
