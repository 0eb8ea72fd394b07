from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.math.prompts import ANSWER_JUDGE
from operators.registry import register


@register("math_answer_llm_judge")
class MathAnswerLlmJudgeEvaluator(LLMOperator):
    """Ask an LLM whether a solution's final answer is equivalent to the reference: a separate, labelled signal.

    For what symbolic checking cannot decide (word answers, answers with conditions, proofs of a value): the judge
    answers ``{"equivalent": bool, "rationale": text}``, written as ``llm_answer_equivalent`` and
    ``llm_answer_rationale`` next to (never instead of) the symbolic verdict of ``math_answer_ground_truth``. It
    filters nothing: a pipeline decides how far to trust it (a ``row_filter`` on the column, or only where the
    symbolic check said ``math_answer_unparseable``). Judges can be wrong in both directions (Zheng et al. 2023).
    """

    category: ClassVar[Category] = Category.EVALUATE
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"output_equivalent_key": pl.Boolean()}
    key_docs = {
        "output_equivalent_key": "the LLM judge's verdict (not a symbolic check)",
        "output_rationale_key": "the judge's rationale",
    }
    references = (
        "Zheng et al. 2023, Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena, arXiv:2306.05685",
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: answer judging)",
    )
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(
        ANSWER_JUDGE, description="The judge's prompt; reads `question`, `reference` and `solution`"
    )
    max_tokens: int = Field(128, ge=1, description="Most tokens to generate per answer")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"equivalent": {"type": "boolean"}, "rationale": {"type": "string", "maxLength": 120}},
            "required": ["equivalent", "rationale"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_equivalent_key: Write = "llm_answer_equivalent",
        output_rationale_key: Write = "llm_answer_rationale",
    ) -> dict[str, Any]:
        answer = result.parsed
        if not isinstance(answer, dict) or not isinstance(answer.get("equivalent"), bool):
            raise AnswerError("the answer has no boolean 'equivalent'")
        return {output_equivalent_key: answer["equivalent"], output_rationale_key: str(answer.get("rationale", ""))}
