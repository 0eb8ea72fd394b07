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
    score_type: ClassVar[str] = "number"
    """The score's JSON type: ``number``, or ``integer`` for a scale of whole points (a fraction is unusable)."""
    rationale_field: ClassVar[str] = "rationale"
    """The answer's field that says why."""

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
                "score": {"type": self.score_type, "minimum": self.min_score, "maximum": self.max_score},
                self.rationale_field: {"type": "string"},
            },
            "required": ["score", self.rationale_field],
        }

    def judged(self, result: LLMResult) -> tuple[float, str]:
        """The answer's score and why, checked against the schema whatever the backend enforced."""
        answer = result.parsed
        score = answer.get("score") if isinstance(answer, dict) else None
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise AnswerError(f"no {self.score_type} 'score' in the answer")
        if self.score_type == "integer" and score != int(score):
            raise AnswerError(f"score {score} is not a whole number")
        if not self.min_score <= score <= self.max_score:
            raise AnswerError(f"score {float(score)} outside [{self.min_score}, {self.max_score}]")
        return float(score), str(answer.get(self.rationale_field, "")).strip()

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        score_key: Write = "llm_score",
        rationale_key: Write = "llm_rationale",
    ) -> dict[str, Any]:
        score, why = self.judged(result)
        return {score_key: score, rationale_key: why}
