from __future__ import annotations

import math
from typing import ClassVar

import polars as pl
from pydantic import Field, field_validator

from operators.base import DatasetEvaluator, Metrics, Read
from operators.registry import register


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k from ``n`` samples of which ``c`` passed: 1 - C(n-c, k) / C(n, k).

    Computed as Chen et al. (2021) do, as a product, which stays exact where the binomials would overflow."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


@register("pass_at_k")
class PassAtKEvaluator(DatasetEvaluator):
    """pass@k of a dataset of sampled solutions: the chance that one of k samples per problem passes its tests.

    Rows are samples grouped by problem (``input_group_key``, by default ``_parent_ids``: the instruction a
    generator wrote ``n`` solutions for) with a boolean verdict (``input_passed_key``, e.g. from
    ``code_execution_verdict``; null counts as a failure). For each k in ``ks`` the metric ``pass@k`` is the mean
    over problems of the unbiased estimator of Chen et al. (2021), taken over the problems with at least k samples
    (``problems@k`` says how many); with fewer samples than k everywhere the metric is left out rather than
    estimated from too few. Also reported: ``problems``, ``samples``, and the histogram ``passing_samples`` (how
    many problems had 0, 1, 2... passing samples).
    """

    references = ("Chen et al. 2021, Evaluating Large Language Models Trained on Code, arXiv:2107.03374",)
    key_docs: ClassVar[dict[str, str]] = {
        "input_group_key": "the problem a sample belongs to",
        "input_passed_key": "whether the sample passed its tests",
    }

    ks: tuple[int, ...] = Field((1, 5, 10), min_length=1, description="The k of each pass@k reported")

    @field_validator("ks")
    @classmethod
    def _positive(cls, ks: tuple[int, ...]) -> tuple[int, ...]:
        if any(k < 1 for k in ks):
            raise ValueError("every k must be at least 1")
        return tuple(sorted(set(ks)))

    def evaluate(
        self, df: pl.DataFrame, *, input_group_key: Read = "_parent_ids", input_passed_key: Read = "execution_passed"
    ) -> Metrics:
        group = pl.col(input_group_key)
        if df.schema[input_group_key] == pl.List(pl.String):
            group = group.list.sort().list.join(",")
        problems = (
            df.group_by(group.alias("__problem"))
            .agg(pl.len().alias("n"), pl.col(input_passed_key).fill_null(False).sum().alias("c"))
            .select("n", "c")
            .rows()
        )
        values: dict[str, float] = {"problems": float(len(problems)), "samples": float(df.height)}
        for k in self.ks:
            eligible = [pass_at_k(n, c, k) for n, c in problems if n >= k]
            if eligible:
                values[f"pass@{k}"] = sum(eligible) / len(eligible)
                values[f"problems@{k}"] = float(len(eligible))
        counts: dict[int, int] = {}
        for _, c in problems:
            counts[c] = counts.get(c, 0) + 1
        return Metrics(values=values, histograms={"passing_samples": {str(c): counts[c] for c in sorted(counts)}})
