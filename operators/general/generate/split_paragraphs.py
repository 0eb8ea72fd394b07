from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Generator, Read, Write
from operators.registry import register


@register("split_paragraphs")
class SplitParagraphsGenerator(Generator):
    """Split each document into paragraphs (separated by a blank line), one new row per paragraph.

    Each paragraph row keeps the parent's other columns, gets a new ``_row_id`` and records its parent in
    ``_parent_ids``; paragraphs shorter than ``min_chars`` are not emitted.
    """

    row_local: ClassVar[bool] = True

    min_chars: int = Field(1, ge=1, description="Shortest paragraph (in characters) that becomes a row")

    def generate(self, df: pl.DataFrame, *, input_key: Read = "text", output_key: Write = "paragraph") -> pl.DataFrame:
        return (
            df.with_columns(pl.col(input_key).str.split("\n\n").alias(output_key))
            .explode(output_key)
            .with_columns(pl.col(output_key).str.strip_chars())
            .filter(pl.col(output_key).str.len_chars() >= self.min_chars)
        )
