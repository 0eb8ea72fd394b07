from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("normalize_text")
class NormalizeTextRefiner(Refiner):
    """Normalize text: Unicode normal form, whitespace runs collapsed, ends stripped, optionally lower-cased.

    Line breaks are kept (paragraph structure matters to later rules); runs of spaces and tabs become one space,
    and runs of three or more newlines become one blank line.
    """

    form: Literal["NFC", "NFKC", "NFD", "NFKD"] = Field("NFKC", description="Unicode normal form to apply")
    collapse_whitespace: bool = Field(True, description="Turn runs of spaces/tabs into one space")
    strip: bool = Field(True, description="Remove leading and trailing whitespace")
    lowercase: bool = Field(False, description="Lower-case the text")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        text = pl.col(input_key).str.normalize(self.form)
        if self.collapse_whitespace:
            text = text.str.replace_all(r"[ \t\f\v\u00a0]+", " ").str.replace_all(r" ?\n ?", "\n")
            text = text.str.replace_all(r"\n{3,}", "\n\n")
        if self.strip:
            text = text.str.strip_chars()
        if self.lowercase:
            text = text.str.to_lowercase()
        return {output_key: text}
