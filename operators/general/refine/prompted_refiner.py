from __future__ import annotations

from typing import Any, ClassVar

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.protocol import LLMResult
from operators.registry import register


@register("prompted_refiner")
class PromptedRefiner(LLMOperator):
    """Rewrite a column with an LLM (fix grammar, remove boilerplate, translate...); one answer per row.

    By default the answer replaces the column the prompt is about; set ``output_key`` to keep both.
    """

    category: ClassVar[Category] = Category.REFINE

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "text") -> dict[str, Any]:
        text = (result.text or "").strip()
        if not text:
            raise AnswerError("empty answer")
        return {output_key: text}
