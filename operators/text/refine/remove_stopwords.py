from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text import stop_words


@register("remove_stopwords")
class RemoveStopwordsRefiner(Refiner):
    """Remove English stop words ("the", "of", "is", ...) from text; the remaining words are joined by single spaces.

    Covers DataFlow's ``RemoveStopwordsRefiner``, which splits on whitespace and drops NLTK's English stop words
    (downloaded at run time). The list here is scikit-learn's (the Glasgow list, 318 words, shipped with the
    package), longer than NLTK's 179: it also holds "however", "whereas", and a few content words such as "fire"
    and "system". A word is the run between whitespace; it is dropped when, lower-cased and
    stripped of surrounding punctuation, it is on the list ("The," goes with its comma). Line breaks and other
    whitespace become single spaces.
    """

    requires: ClassVar[tuple[str, ...]] = stop_words.REQUIRES
    extra: ClassVar[str | None] = stop_words.EXTRA
    references: ClassVar[tuple[str, ...]] = ("scikit-learn ENGLISH_STOP_WORDS (Glasgow IR group stop-word list)",)

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        bare = (
            pl.element()
            .str.to_lowercase()
            .str.strip_chars("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u201c\u201d\u2018\u2019\u00ab\u00bb")
        )
        kept = pl.col(input_key).str.extract_all(r"\S+").list.filter(~bare.is_in(stop_words.english_stop_words()))
        return {output_key: pl.when(pl.col(input_key).is_not_null()).then(kept.list.join(" "))}
