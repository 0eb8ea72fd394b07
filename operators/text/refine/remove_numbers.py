from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register

_NUMBER = r"\b\d+(?:[.,]\d+)*\b%?"
"""A number standing alone: digits with decimal or thousands separators (3.14, 1,000,000) and a percent sign.
``\\b`` on both sides keeps digits inside words (mp3 and B2B keep theirs; COVID-19's "19" is a number). A sign
stays: it cannot be told from a hyphen ("-5" and "COVID-19")."""


@register("remove_numbers")
class RemoveNumbersRefiner(Refiner):
    """Remove numbers from text: standalone numbers by default, or every digit character with ``every_digit``.

    DataFlow's ``RemoveNumberRefiner`` deletes every character for which ``str.isdigit()`` holds, so "mp3" becomes
    "mp" and "3.14" becomes "."; that is ``every_digit=True`` here (Unicode decimal digits, ``\\d``; superscripts,
    which ``isdigit`` also takes, stay). The default removes whole numbers with their separators and percent sign
    and leaves digits that are part of a word. Whitespace around a removal stays: follow with
    ``normalize_text`` to collapse it.
    """

    every_digit: bool = Field(False, description="Remove every digit character, also inside words (DataFlow's rule)")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: pl.col(input_key).str.replace_all(r"\d" if self.every_digit else _NUMBER, "")}
