from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import PYTHON_WHITESPACE, judged


@register("dataflow_char_number")
class CharNumberFilter(Filter):
    """Reject texts with fewer than ``threshold`` characters, whitespace not counted.

    Reproduces DataFlow's ``CharNumberFilter`` (``rule_based_filter.py``, default 100, inclusive: 100 characters
    are kept). DataFlow's "whitespace removal" is ``strip()`` then removing spaces, ``\\n`` and ``\\t`` only, so
    inner ``\\r``, non-breaking and ideographic spaces still count as characters. Score ``dataflow_char_count``;
    null and empty texts are rejected without one.
    """

    threshold: int = Field(100, ge=0, description="Fewest characters a kept text may have (inclusive)")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        stripped = pl.col(input_key).str.strip_chars(PYTHON_WHITESPACE)
        characters = judged(input_key, stripped.str.len_chars() - stripped.str.count_matches("[ \n\t]"))
        characters = characters.alias("dataflow_char_count")
        return {self.name: Rule(score=characters, keep=characters >= self.threshold)}
