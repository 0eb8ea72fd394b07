from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.math.prompts import CHAIN_OF_THOUGHT
from operators.registry import register


@register("math_cot_answer")
class MathCotAnswerGenerator(LLMOperator):
    """Write chain-of-thought solutions to math questions: ``n`` sampled solutions per question, each a new row.

    The prompt (versioned: its name and version are in the cache key, the code version and the lineage) asks for
    step-by-step reasoning ending in ``\\boxed{}``. Every solution is a new row naming its question in
    ``_parent_ids`` and numbered in ``_sample`` (when ``n`` > 1), so the samples of one question can vote
    (``math_answer_vote``) and each kept solution leads back to its question. ``n`` > 1 needs a temperature above 0
    (identical samples cannot vote). An empty answer is unusable (``llm_unparseable_answer``).
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    key_docs = {"output_key": "a chain-of-thought solution ending in \\boxed{answer}"}
    references = (
        "Wei et al. 2022, Chain-of-Thought Prompting Elicits Reasoning in Large Language Models, arXiv:2201.11903",
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: answer generation)",
    )
    example = "MathCotAnswerGenerator(n=4, temperature=0.7)(questions)"
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(CHAIN_OF_THOUGHT, description="The solving prompt; reads `question`")
    max_tokens: int = Field(1024, ge=1, description="Most tokens to generate per solution")

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "solution") -> dict[str, Any]:
        text = (result.text or "").strip()
        if not text:
            raise AnswerError("empty solution")
        return {output_key: text}
