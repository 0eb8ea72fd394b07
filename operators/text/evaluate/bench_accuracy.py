from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import DatasetEvaluator, Metrics, Read
from operators.registry import register


@register("bench_accuracy")
class BenchAccuracyEvaluator(DatasetEvaluator):
    """A model's accuracy on a benchmark dataset: the mean of a 0/1 match column (``answer_match``, or an LLM
    judge's 0/1 score), with the counts behind it.

    Metrics: ``accuracy`` (correct over scored rows), ``correct``, ``scored`` and ``unscored`` (rows whose match is
    null: no prediction, no reference, or a failed judge call, kept out of the accuracy and counted so that they
    are seen); with ``by_key`` also the accuracy of every value of that column (subject, difficulty) as a
    histogram of percentages. Covers DataFlow's ``BenchDatasetEvaluator`` / ``UnifiedBenchDatasetEvaluator``
    summaries, as the step's Dagster metadata and metrics table.
    """

    by: str | None = Field(None, description="Column whose values get an accuracy each (e.g. 'subject'); None: none")

    def evaluate(self, df: pl.DataFrame, *, input_key: Read = "match") -> Metrics:
        match = df[input_key].cast(pl.Float64)
        scored = match.drop_nulls()
        values = {
            "scored": float(scored.len()),
            "unscored": float(match.null_count()),
            "correct": float(scored.sum()),
        }
        if scored.len():
            values["accuracy"] = float(scored.mean())
        if self.by is None:
            return Metrics(values)
        groups = (
            df.select(pl.col(self.by).cast(pl.String).fill_null("(none)"), match.alias("m"))
            .group_by(self.by)
            .agg((pl.col("m").mean() * 100).round(0).cast(pl.Int64).alias("percent"))
            .sort(self.by)
        )
        return Metrics(values, {f"accuracy_by_{self.by}": dict(groups.drop_nulls("percent").iter_rows())})
