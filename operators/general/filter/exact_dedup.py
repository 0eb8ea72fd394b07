from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.columns import ROW_ID
from operators.registry import register


@register("exact_dedup")
class ExactDedupFilter(Filter):
    """Remove exact duplicates of a normalized text, keeping the row with the smallest ``_row_id`` of each group.

    Normalization lower-cases, drops everything but letters, digits and whitespace, and collapses whitespace, so
    copies that differ only in case, punctuation or spacing are caught. The choice of survivor depends on ids, not
    on row order, so it is the same however the data was read. Rejection ``exact_duplicate``: the score is the size
    of the duplicate group and the detail names the row kept in its place.
    """

    row_local: ClassVar[bool] = False

    lowercase: bool = Field(True, description="Compare case-insensitively")
    ignore_punctuation: bool = Field(True, description="Ignore everything but letters, digits and whitespace")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        normalized = pl.col(input_key)
        if self.lowercase:
            normalized = normalized.str.to_lowercase()
        if self.ignore_punctuation:
            normalized = normalized.str.replace_all(r"[^\p{L}\p{N}\s]+", "")
        key = normalized.str.replace_all(r"\s+", " ").str.strip_chars().hash(seed=0)
        survivor = pl.col(ROW_ID).min().over(key)
        return {
            "exact_duplicate": Rule(
                score=pl.len().over(key).alias("duplicate_group_size"),
                keep=pl.col(ROW_ID) == survivor,
                detail=pl.concat_str(pl.lit("duplicate_of="), survivor),
            )
        }
