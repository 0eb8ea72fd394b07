from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register

_PARENS = r"""\([^\s<>"'`()]*\)"""
_URL = rf"""(?i)\b(?:https?://|www\.)(?:[^\s<>"'`()]|{_PARENS})*(?:[^\s<>"'`().,;:!?\]}}]|{_PARENS})"""
"""A web address, less trailing punctuation; parentheses belong to it only in pairs, so the one that closes
"(see https://a.org/x)" stays in the text."""


@register("remove_urls")
class RemoveUrlsRefiner(Refiner):
    """Remove web addresses (``http://``, ``https://`` and ``www.`` URLs) from text, or replace them by a marker.

    A URL runs from its scheme or ``www.`` to the next whitespace, quote, angle bracket or unpaired parenthesis;
    punctuation at its end (``.``, ``,``, ``;``, ``:``, ``!``, ``?``, ``]``, ``}``) is left in the text, so "see
    https://a.org/x." keeps its period, while a pair of parentheses inside it (``wiki/Foo_(bar)``) is kept whole.
    Other schemes (``ftp:``, ``mailto:``) and bare domains (``example.com``) are not touched. Whitespace around a
    removed URL is left as it is: follow with ``normalize_text`` to collapse it.
    """

    replacement: str = Field("", description="Text put in place of each URL, e.g. '<URL>'; empty removes it")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: pl.col(input_key).str.replace_all(_URL, self.replacement.replace("$", "$$"))}
