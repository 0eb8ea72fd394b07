from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.math.prompts import CATEGORIES, CATEGORY
from operators.registry import register


@register("math_category")
class MathCategoryEvaluator(LLMOperator):
    """Label each math question with a primary category (from a fixed list) and a free secondary topic, by LLM.

    The primary category must be one of ``categories`` (by default the MATH dataset's seven subjects plus
    arithmetic, calculus, linear algebra, statistics, logic and "Other"); the schema lists them as an enum and an
    answer outside the list is unusable (``llm_unparseable_answer``). The secondary category is a short topic
    ("modular arithmetic"). Summarize over a dataset with ``math_distribution``.
    """

    category: ClassVar[Category] = Category.EVALUATE
    key_docs = {
        "output_primary_key": "primary category, one of the operator's list",
        "output_secondary_key": "specific topic, a few words",
    }
    references = (
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning data: primary/secondary category labels)",
        "Hendrycks et al. 2021, MATH, arXiv:2103.03874 (seven subjects)",
    )
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(CATEGORY, description="The labelling prompt; reads `question` and `categories`")
    categories: tuple[str, ...] = Field(CATEGORIES, min_length=2, description="The allowed primary categories")
    max_tokens: int = Field(64, ge=1, description="Most tokens to generate per answer")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [c for c in super().reads(keys) if c != "categories"]

    def build_prompt(self, row: dict[str, Any]) -> str:
        return self.prompt.render({**row, "categories": "; ".join(self.categories)})

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "primary": {"type": "string", "enum": list(self.categories)},
                "secondary": {"type": "string", "maxLength": 60},
            },
            "required": ["primary", "secondary"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_primary_key: Write = "primary_category",
        output_secondary_key: Write = "secondary_category",
    ) -> dict[str, Any]:
        answer = result.parsed if isinstance(result.parsed, dict) else {}
        primary = next(
            (c for c in self.categories if c.lower() == str(answer.get("primary", "")).strip().lower()), None
        )
        if primary is None:
            raise AnswerError(f"primary category {answer.get('primary')!r} is not one of the allowed categories")
        return {output_primary_key: primary, output_secondary_key: str(answer.get("secondary", "")).strip() or None}
