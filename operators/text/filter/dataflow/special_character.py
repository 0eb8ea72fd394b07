from __future__ import annotations

import polars as pl

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged

SPECIAL_CHARACTER_PATTERNS = (
    r"u200e",
    r"&#247;|\? :",
    r"[\ufffd\u25a1]|\{/U\}",
    r"U\+26[0-F][0-D]|U\+273[3-4]|U\+1F[3-6][0-4][0-F]|U\+1F6[8-F][0-F]",
)
"""DataFlow's ``speclai_character`` patterns, as written."""


@register("dataflow_special_character")
class SpecialCharacterFilter(Filter):
    """Reject texts with encoding debris: replacement characters, escaped code points and broken markup.

    Reproduces DataFlow's ``SpecialCharacterFilter`` (``rule_based_filter.py``), which has no parameter: a match of
    any of :data:`SPECIAL_CHARACTER_PATTERNS` rejects the text. They match *written-out* forms, reproduced as they
    are: "u200e" is the text, not the U+200E mark; "U+2600"-style code points are the notation, not the emoji; the
    ranges ``[0-F]`` and ``[0-D]`` also take ``:;<=>?@``; "? :" and "&#247;" are literal. Only "\\ufffd" (�) and
    "□" are real characters. Score ``dataflow_special_character_count``: matches found; null and empty texts are
    rejected without one.
    """

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        found = pl.col(input_key).str.count_matches("|".join(SPECIAL_CHARACTER_PATTERNS))
        found = judged(input_key, found).alias("dataflow_special_character_count")
        return {self.name: Rule(score=found, keep=found == 0)}
