from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("remove_punctuation")
class RemovePunctuationRefiner(Refiner):
    """Remove punctuation from text: every Unicode punctuation character (``\\p{P}``), and symbols with ``symbols``.

    DataFlow's ``RemovePunctuationRefiner`` removes Python's ``string.punctuation``, the 32 ASCII punctuation and
    symbol characters, so CJK and typographic punctuation (ideographic full stops and commas, curly quotes, dashes, the
    ellipsis character) stays; here punctuation is Unicode's
    category P in every script, and ``symbols=True`` adds category S (``$ + < = > ^ ` | ~`` and currency, math and
    other symbols, emoji included). Apostrophes inside words go too ("don't" -> "dont"). ``replacement`` is put in
    place of each character (a space keeps "end.Next" apart).
    """

    symbols: bool = Field(False, description="Also remove symbol characters (Unicode category S: $ + < = > ^ | ~ ...)")
    replacement: str = Field("", description="Text put in place of each removed character")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        pattern = r"[\p{P}\p{S}]" if self.symbols else r"\p{P}"
        return {output_key: pl.col(input_key).str.replace_all(pattern, self.replacement.replace("$", "$$"))}
