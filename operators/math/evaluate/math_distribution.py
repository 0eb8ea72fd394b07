from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import DatasetEvaluator, Metrics, Read
from operators.registry import register


@register("math_distribution")
class MathDistributionEvaluator(DatasetEvaluator):
    """How a math dataset spreads over difficulty (1-10) and categories: histograms and summary numbers.

    Histograms (shown as the step's Dagster metadata, stored as its table): ``difficulty`` with one bucket per
    level 1-10 (empty levels shown as 0, so two runs compare bucket by bucket), ``primary_category`` by count, and
    the ``top`` most frequent ``secondary_category`` values (the rest as ``(other)``). Numbers: rows, unlabelled
    rows, the mean and median difficulty, the number of categories and the mean difficulty of each primary
    category (``difficulty_mean.<category>``). DataFlow reports the same two distributions for its reasoning data.
    """

    key_docs = {
        "input_difficulty_key": "difficulty label, 1-10",
        "input_category_key": "primary category label",
        "input_secondary_key": "secondary category label",
    }
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning data: difficulty and category labels)",)

    top: int = Field(20, ge=1, le=1000, description="Secondary categories listed in their histogram")

    def evaluate(
        self,
        df: pl.DataFrame,
        *,
        input_difficulty_key: Read = "difficulty",
        input_category_key: Read = "primary_category",
        input_secondary_key: Read = "secondary_category",
    ) -> Metrics:
        difficulty = df[input_difficulty_key].cast(pl.Int64, strict=False)
        levels = dict(difficulty.drop_nulls().value_counts().iter_rows())
        primary = df.select(pl.col(input_category_key).cast(pl.String).alias("c"), difficulty.alias("d"))
        by_category = primary.drop_nulls("c").group_by("c").agg(pl.len().alias("n"), pl.col("d").mean().alias("mean"))
        by_category = by_category.sort(["n", "c"], descending=[True, False])
        secondary = df[input_secondary_key].cast(pl.String).drop_nulls().value_counts(sort=True, name="n")
        rest = int(secondary["n"].slice(self.top).sum())
        values = {
            "rows": float(df.height),
            "difficulty.unlabelled": float(difficulty.null_count()),
            "difficulty.mean": float(difficulty.mean() or 0.0),
            "difficulty.median": float(difficulty.median() or 0.0),
            "primary_category.count": float(by_category.height),
            "primary_category.unlabelled": float(primary["c"].null_count()),
            **{f"difficulty_mean.{c}": float(mean or 0.0) for c, _, mean in by_category.iter_rows()},
        }
        histograms = {
            "difficulty": {str(level): int(levels.get(level, 0)) for level in range(1, 11)},
            "primary_category": {c: int(n) for c, n, _ in by_category.iter_rows()},
            "secondary_category": dict(secondary.head(self.top).iter_rows()) | ({"(other)": rest} if rest else {}),
        }
        return Metrics(values, histograms)
