from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, model_validator

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.protocol import LLMResult
from operators.registry import register


@register("prompted_evaluator")
class PromptedEvaluator(LLMOperator):
    """Score each row with an LLM: a number in [min_score, max_score] and a rationale, as structured JSON.

    The answer must be ``{"score": <number>, "rationale": <text>}``; the schema is enforced by the backend where it
    can be and always checked here. A score outside the range is an unusable answer, not a clipped one.
    """

    category: ClassVar[Category] = Category.EVALUATE
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"score_key": pl.Float64(), "rationale_key": pl.String()}

    min_score: float = Field(1, description="Lowest valid score")
    max_score: float = Field(5, description="Highest valid score")

    @model_validator(mode="after")
    def _range_ordered(self) -> PromptedEvaluator:
        if self.min_score >= self.max_score:
            raise ValueError(f"min_score ({self.min_score}) must be below max_score ({self.max_score})")
        return self

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "score": {"type": "number", "minimum": self.min_score, "maximum": self.max_score},
                "rationale": {"type": "string"},
            },
            "required": ["score", "rationale"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        score_key: Write = "llm_score",
        rationale_key: Write = "llm_rationale",
    ) -> dict[str, Any]:
        answer = result.parsed
        if not isinstance(answer, dict) or not isinstance(answer.get("score"), int | float):
            raise AnswerError("no numeric 'score' in the answer")
        score = float(answer["score"])
        if not self.min_score <= score <= self.max_score:
            raise AnswerError(f"score {score} outside [{self.min_score}, {self.max_score}]")
        return {score_key: score, rationale_key: str(answer.get("rationale", ""))}
