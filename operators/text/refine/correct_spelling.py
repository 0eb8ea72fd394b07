from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._word_map import map_words


@register("correct_spelling")
class CorrectSpellingRefiner(Refiner):
    """Correct misspelt words with the word-frequency dictionary that ``pyspellchecker`` ships ("teh" -> "the").

    Covers DataFlow's ``SpellingCorrectionRefiner``, which builds a SymSpell index from a frequency dictionary it
    downloads at run time. Here the dictionary is the one inside the ``pyspellchecker`` package (English, Spanish,
    French, German, Portuguese, Italian, Russian, Arabic, Latvian, Basque, Dutch, Persian, Ukrainian; word
    frequencies from OpenSubtitles and Wiktionary), and nothing is downloaded: without the package the operator
    refuses to start with an install hint. Method: Norvig's corrector - a word not in the dictionary becomes the
    most frequent dictionary word within ``distance`` edits (insertions, deletions, substitutions,
    transpositions), and stays as written when there is none. Words with capitals keep them (a capital first
    letter, or all capitals). Each distinct word of the column is looked up once; distance 2 costs about a
    millisecond per unknown word.
    """

    requires: ClassVar[tuple[str, ...]] = ("spellchecker",)
    extra: ClassVar[str | None] = "text"
    references: ClassVar[tuple[str, ...]] = ("Norvig, How to Write a Spelling Corrector, 2007",)

    language: str = Field("en", description="Dictionary language code of pyspellchecker (en, es, fr, de, ...)")
    distance: int = Field(2, ge=1, le=2, description="Most edits between a misspelt word and its correction")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: map_words(pl.col(input_key), self._corrector())}

    def _corrector(self) -> Callable[[str], str]:
        from spellchecker import SpellChecker

        checker = SpellChecker(language=self.language, distance=self.distance)

        def correct(word: str) -> str:
            lower = word.lower()
            if lower in checker or len(lower) < 2:
                return word
            fixed = checker.correction(lower)
            if not fixed or fixed == lower:
                return word
            if word.isupper() and len(word) > 1:
                return fixed.upper()
            return fixed[0].upper() + fixed[1:] if word[0].isupper() else fixed

        return correct
