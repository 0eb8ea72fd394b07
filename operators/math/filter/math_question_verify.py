from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Rule, Write, apply_rules
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.math.prompts import QUESTION_VERIFY
from operators.registry import register


@register("math_question_verify")
class MathQuestionVerifyFilter(LLMOperator):
    """Ask an LLM judge whether each math question is solvable and correct, and keep the questions that are both.

    The judge answers ``{"solvable": bool, "correct": bool, "reason": text}`` (the schema is enforced by the
    backend where it can be and always checked); the three are written as typed columns on every row. Rejections:
    ``math_question_unsolvable`` (missing information or no single answer), ``math_question_incorrect`` (a false
    premise, inconsistent data); failed calls and unusable answers as ``llm_<error>``. DataFlow verifies questions
    the same way before solving them, so no answer is generated for a broken problem.
    """

    category: ClassVar[Category] = Category.FILTER
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {
        "output_solvable_key": pl.Boolean(),
        "output_correct_key": pl.Boolean(),
    }
    key_docs = {
        "output_solvable_key": "the judge's verdict: all information given, exactly one answer",
        "output_correct_key": "the judge's verdict: consistent, no false premise",
        "output_reason_key": "the judge's reason",
    }
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: question verification)",)
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(QUESTION_VERIFY, description="The judge's prompt; reads `question`")
    max_tokens: int = Field(160, ge=1, description="Most tokens to generate per answer")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "solvable": {"type": "boolean"},
                "correct": {"type": "boolean"},
                "reason": {"type": "string", "maxLength": 120},
            },
            "required": ["solvable", "correct", "reason"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_solvable_key: Write = "question_solvable",
        output_correct_key: Write = "question_correct",
        output_reason_key: Write = "question_verify_reason",
    ) -> dict[str, Any]:
        answer = result.parsed
        if not isinstance(answer, dict) or not all(isinstance(answer.get(k), bool) for k in ("solvable", "correct")):
            raise AnswerError("the answer has no boolean 'solvable' and 'correct'")
        return {
            output_solvable_key: answer["solvable"],
            output_correct_key: answer["correct"],
            output_reason_key: str(answer.get("reason", "")),
        }

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        solvable, correct = pl.col(keys["output_solvable_key"]), pl.col(keys["output_correct_key"])
        reason = pl.col(keys["output_reason_key"])
        return apply_rules(
            answered,
            {
                "math_question_unsolvable": Rule(
                    solvable.cast(pl.Float64).alias("question_solvable"), solvable, reason
                ),
                "math_question_incorrect": Rule(correct.cast(pl.Float64).alias("question_correct"), correct, reason),
            },
        )
