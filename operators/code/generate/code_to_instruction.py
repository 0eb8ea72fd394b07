from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

BACK_TRANSLATION_PROMPT = PromptTemplate(
    name="code_to_instruction",
    version="1",
    system="You write programming tasks. Reply with the task only: no solution, no preamble.",
    template=(
        "Here is a piece of code. Write the instruction a user would give to have exactly this code written: "
        "what it must do, its function name and parameters, its inputs and outputs, and any edge case it "
        "handles. Do not mention that the code already exists.\n\nCode:\n```\n{{ code }}\n```"
    ),
)


@register("code_to_instruction")
class CodeToInstructionGenerator(LLMOperator):
    """Back-translate code into the instruction that asks for it (one instruction per row, in ``instruction``).

    Instruction back-translation (Li et al. 2024) as DataFlow's code pipeline applies it to seed code: real code
    becomes an instruction/code pair without writing the code. An empty or very short answer is unusable
    (``llm_unparseable_answer``); failed calls are rejected with their reason, never left as null.
    """

    category: ClassVar[Category] = Category.GENERATE
    key_docs = {"output_key": "the instruction that asks for the row's code"}
    references = (
        "Li et al. 2024, Self-Alignment with Instruction Backtranslation, arXiv:2308.06259",
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (code pipeline)",
    )

    prompt: PromptTemplate = Field(BACK_TRANSLATION_PROMPT, description="The prompt; it reads the 'code' column")
    max_tokens: int = Field(256, ge=1, description="Most tokens to generate per answer")
    min_chars: int = Field(20, ge=1, description="Shortest instruction accepted")

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "instruction") -> dict[str, Any]:
        text = (result.text or "").strip()
        if len(text) < self.min_chars:
            raise AnswerError(f"an instruction shorter than {self.min_chars} characters")
        return {output_key: text}
