from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, Write
from operators.general.evaluate.prompted_evaluator import PromptedEvaluator
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
class CodeQualityScoreEvaluator(PromptedEvaluator):
    """Score each instruction/code pair from 1 to 10 with the reviewer's feedback, as structured JSON.

    The answer must be ``{"score": <integer>, "feedback": <text>}`` within [``min_score``, ``max_score``];
    anything else is unusable (``llm_unparseable_answer``), never clipped. Filter on ``quality_score`` with
    ``row_filter``. As DataFlow's ``CodeQualitySampleEvaluator``, with the schema enforced and checked: a
    ``prompted_evaluator`` with a reviewer's prompt, whole-point scores and ``feedback`` for the rationale.
    """

    category: ClassVar[Category] = Category.EVALUATE
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"score_key": pl.Float64(), "feedback_key": pl.String()}
    score_type: ClassVar[str] = "integer"
    rationale_field: ClassVar[str] = "feedback"
    key_docs = {"score_key": "the reviewer's score, 1-10", "feedback_key": "why, in one or two sentences"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (code pipeline)",)

    prompt: PromptTemplate = Field(QUALITY_PROMPT, description="The prompt; reads 'instruction' and 'code'")
    min_score: int = Field(1, description="Lowest valid score")
    max_score: int = Field(10, description="Highest valid score")
    max_tokens: int = Field(128, ge=1, description="Most tokens to generate per answer")

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        score_key: Write = "quality_score",
        feedback_key: Write = "quality_feedback",
    ) -> dict[str, Any]:
        score, feedback = self.judged(result)
        return {score_key: score, feedback_key: feedback}
