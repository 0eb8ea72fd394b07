from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.math.prompts import DIFFICULTY
from operators.registry import register


@register("math_difficulty")
class MathDifficultyEvaluator(LLMOperator):
    """Label each math question's difficulty from 1 to 10 with an LLM (an integer column and a rationale).

    The scale is anchored in the prompt (1: a one-step exercise, 5: AMC 10, 10: IMO); the answer must be an integer
    in 1-10, anything else is an unusable answer (``llm_unparseable_answer``), never clipped. Summarize the labels
    over a dataset with ``math_distribution``.
    """

    category: ClassVar[Category] = Category.EVALUATE
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"output_difficulty_key": pl.Int64()}
    key_docs = {"output_difficulty_key": "difficulty 1 (easiest) to 10", "output_rationale_key": "why that level"}
    references = (
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning data: difficulty labels)",
        "Gao et al. 2024, Omni-MATH, arXiv:2410.07985 (difficulty levels 1-10 by competition)",
    )
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(DIFFICULTY, description="The labelling prompt; reads `question`")
    max_tokens: int = Field(160, ge=1, description="Most tokens to generate per answer")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "difficulty": {"type": "integer", "minimum": 1, "maximum": 10},
                "rationale": {"type": "string", "maxLength": 100},
            },
            "required": ["difficulty", "rationale"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_difficulty_key: Write = "difficulty",
        output_rationale_key: Write = "difficulty_rationale",
    ) -> dict[str, Any]:
        answer = result.parsed
        level = answer.get("difficulty") if isinstance(answer, dict) else None
        if isinstance(level, bool) or not isinstance(level, int | float) or level != int(level) or not 1 <= level <= 10:
            raise AnswerError(f"difficulty {level!r} is not an integer from 1 to 10")
        return {output_difficulty_key: int(level), output_rationale_key: str(answer.get("rationale", ""))}
