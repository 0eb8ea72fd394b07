from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.columns import ROW_ID
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.math.prompts import QUESTION_SYNTHESIS
from operators.registry import register

QUESTION_ITEM = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 10}},
    "required": ["question"],
}


@register("math_question_synthesis")
class MathQuestionSynthesisGenerator(LLMItemsGenerator):
    """Write several new math problems from each seed problem; each new problem is a row naming its seed.

    One prompt per seed row (its ``question_column``) asks for ``count`` new, self-contained problems inspired by
    it (other numbers, setting or structure, an added step), as ``{"items": [{"question": ...}]}``. Each item is a
    new row with ``question``, ``_parent_ids = [seed row id]`` and ``_sample``; new problems have no reference
    answer (grade them by vote). With ``n`` > 1 (temperature above 0) each seed is asked ``n`` times. A failed or
    unusable answer is a rejected row with its reason. DataFlow's ``ReasoningQuestionGenerator`` does the same from
    its seeds, one problem per call.
    """

    inputs: ClassVar[int | None] = 1
    references = (
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: question synthesis from seeds)",
        "Luo et al. 2023, WizardMath / Evol-Instruct, arXiv:2308.09583 (evolving problems from seeds)",
    )
    example = "MathQuestionSynthesisGenerator(count=3, temperature=0.8)(seeds)"
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(
        QUESTION_SYNTHESIS, description="Synthesis prompt; reads `question` (the seed) and `count`"
    )
    item_schema: dict[str, Any] = Field(QUESTION_ITEM, description="Object JSON schema of one new problem")
    count: int = Field(3, ge=1, le=20, description="New problems asked for per seed")
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")
    question_column: str = Field("question", description="The seeds' column holding the problem text")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [self.question_column]

    def build_prompts(self, df: pl.DataFrame) -> list[ItemsPrompt]:
        return [
            ItemsPrompt(self.prompt.render({"question": question, "count": self.count}), [row_id])
            for row_id, question in df.select(ROW_ID, self.question_column).iter_rows()
            if question is not None and question.strip()
        ]
