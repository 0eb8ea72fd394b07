from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Category, Operator, OpResult
from operators.columns import ROW_ID
from operators.errors import DataflowError
from operators.registry import register


@register("concat_rows")
class ConcatRowsRefiner(Operator):
    """Join branches: the rows of several datasets stacked into one; columns missing on one side become null.

    The branches must hold different rows: a ``_row_id`` present in two inputs is an error, not a silent dedup.
    """

    category: ClassVar[Category] = Category.REFINE
    inputs: ClassVar[int | None] = None

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        self.bind_keys(keys)
        stacked = pl.concat(frames, how="diagonal_relaxed")
        if ROW_ID in stacked.columns and stacked[ROW_ID].n_unique() != stacked.height:
            repeated = stacked.filter(pl.col(ROW_ID).is_duplicated())[ROW_ID].unique().head(3).to_list()
            raise DataflowError(
                f"concat_rows: row ids occur in more than one input, e.g. {repeated}",
                hint="branches joined by concat_rows must split the rows, not copy them",
            )
        return OpResult(kept=stacked)
