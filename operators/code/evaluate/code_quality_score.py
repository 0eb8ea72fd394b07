from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, model_validator

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

QUALITY_PROMPT = PromptTemplate(
    name="code_quality_score",
    version="1",
    system="You are a strict senior code reviewer judging instruction/code pairs as training data.",
    template=(
        "Rate how well the code solves the instruction, from 1 (wrong or unusable) to 10 (correct, clear, "
        "idiomatic, handles edge cases). Judge correctness first, then clarity and efficiency. Answer with JSON: "
        '{"score": <integer 1-10>, "feedback": <one or two sentences naming the main problem or strength>}.\n\n'
        "Instruction:\n{{ instruction }}\n\nCode:\n```\n{{ code }}\n```"
    ),
)


@register("code_quality_score")
class CodeQualityScoreEvaluator(LLMOperator):
    """Score each instruction/code pair from 1 to 10 with the reviewer's feedback, as structured JSON.

    The answer must be ``{"score": <integer>, "feedback": <text>}`` within [``min_score``, ``max_score``];
    anything else is unusable (``llm_unparseable_answer``), never clipped. Filter on ``quality_score`` with
    ``row_filter``. As DataFlow's ``CodeQualitySampleEvaluator``, with the schema enforced and checked.
    """

    category: ClassVar[Category] = Category.EVALUATE
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"score_key": pl.Float64(), "feedback_key": pl.String()}
    key_docs = {"score_key": "the reviewer's score, 1-10", "feedback_key": "why, in one or two sentences"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (code pipeline)",)

    prompt: PromptTemplate = Field(QUALITY_PROMPT, description="The prompt; reads 'instruction' and 'code'")
    min_score: int = Field(1, description="Lowest valid score")
    max_score: int = Field(10, description="Highest valid score")
    max_tokens: int = Field(128, ge=1, description="Most tokens to generate per answer")

    @model_validator(mode="after")
    def _range_ordered(self) -> CodeQualityScoreEvaluator:
        if self.min_score >= self.max_score:
            raise ValueError(f"min_score ({self.min_score}) must be below max_score ({self.max_score})")
        return self

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "score": {"type": "integer", "minimum": self.min_score, "maximum": self.max_score},
                "feedback": {"type": "string"},
            },
            "required": ["score", "feedback"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        score_key: Write = "quality_score",
        feedback_key: Write = "quality_feedback",
    ) -> dict[str, Any]:
        answer = result.parsed
        score = answer.get("score") if isinstance(answer, dict) else None
        if isinstance(score, bool) or not isinstance(score, int | float) or score != int(score):
            raise AnswerError("no integer 'score' in the answer")
        if not self.min_score <= score <= self.max_score:
            raise AnswerError(f"score {score} outside [{self.min_score}, {self.max_score}]")
        return {score_key: float(score), feedback_key: str(answer.get("feedback", "")).strip()}
