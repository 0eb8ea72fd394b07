from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import DatasetEvaluator, Metrics, Read
from operators.registry import register


@register("column_distribution")
class ColumnDistributionEvaluator(DatasetEvaluator):
    """The distribution of one column over the whole dataset: a histogram and summary statistics.

    A numeric column gets ``bins`` equal-width buckets between its min and max (or one bucket per value when it
    has at most ``bins`` distinct integers, e.g. a 1-10 difficulty) plus count, nulls, mean, std, min, median and
    max; any other column gets counts of its ``top`` most frequent values (the rest summed as ``(other)``). The
    histogram shows in the step's Dagster metadata; the numbers are the step's table.
    """

    bins: int = Field(10, ge=1, le=100, description="Buckets of a numeric histogram")
    top: int = Field(20, ge=1, le=1000, description="Values listed in a categorical histogram")

    def evaluate(self, df: pl.DataFrame, *, input_key: Read = "score") -> Metrics:
        column = df[input_key]
        values = column.drop_nulls()
        stats = {f"{input_key}.count": float(column.len()), f"{input_key}.nulls": float(column.null_count())}
        if column.dtype.is_numeric() and values.len():
            numbers = values.cast(pl.Float64)
            stats |= {
                f"{input_key}.{name}": float(value)
                for name, value in (
                    ("mean", numbers.mean()),
                    ("std", numbers.std() or 0.0),
                    ("min", numbers.min()),
                    ("median", numbers.median()),
                    ("max", numbers.max()),
                )
            }
            return Metrics(stats, {input_key: _numeric_histogram(numbers, column.dtype.is_integer(), self.bins)})
        counts = values.cast(pl.String).value_counts(sort=True, name="n")
        histogram = dict(counts.head(self.top).iter_rows())
        rest = int(counts["n"].slice(self.top).sum())
        return Metrics(stats, {input_key: histogram | ({"(other)": rest} if rest else {})})


def _numeric_histogram(numbers: pl.Series, integers: bool, bins: int) -> dict[str, int]:
    low, high = float(numbers.min()), float(numbers.max())
    if integers and numbers.n_unique() <= bins and high - low < bins:
        counts = dict(numbers.cast(pl.Int64).value_counts().iter_rows())
        return {str(v): counts.get(v, 0) for v in range(int(low), int(high) + 1)}
    width = (high - low) / bins or 1.0
    index = ((numbers - low) / width).floor().clip(0, bins - 1).cast(pl.Int64)
    counts = dict(index.value_counts().iter_rows())
    return {
        f"[{low + i * width:.4g}, {low + (i + 1) * width:.4g}{']' if i == bins - 1 else ')'}": counts.get(i, 0)
        for i in range(bins)
    }
