from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field, model_validator

from operators.base import Category, OpResult, Rule, apply_rules
from operators.general.evaluate.prompted_evaluator import PromptedEvaluator
from operators.registry import register


@register("prompted_filter")
class PromptedFilter(PromptedEvaluator):
    """Keep rows whose LLM score lies in [keep_min, keep_max] (both inclusive); the score and rationale are kept.

    Rejections: ``llm_score_out_of_range`` with the score; failed calls as ``llm_<error kind>``.
    """

    category: ClassVar[Category] = Category.FILTER

    keep_min: float = Field(3, description="Lowest score kept (inclusive)")
    keep_max: float = Field(5, description="Highest score kept (inclusive)")

    @model_validator(mode="after")
    def _keep_range_ordered(self) -> PromptedFilter:
        if self.keep_min > self.keep_max:
            raise ValueError(f"keep_min ({self.keep_min}) is greater than keep_max ({self.keep_max})")
        return self

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        score = pl.col(keys["score_key"])
        rule = Rule(score=score.alias(keys["score_key"]), keep=score.is_between(self.keep_min, self.keep_max))
        return apply_rules(answered, {"llm_score_out_of_range": rule})
