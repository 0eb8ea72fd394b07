from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

ENHANCEMENT_PROMPT = PromptTemplate(
    name="code_instruction_enhancement",
    version="1",
    system="You edit programming tasks into one clear, uniform format. Reply with the rewritten task only.",
    template=(
        "Rewrite the programming task below in this format, keeping its meaning and adding nothing it does not "
        "imply:\n"
        "Task: <one sentence>\nFunction: <name(parameters)>\nInput: <the parameters and their types>\n"
        "Output: <the return value and its type>\nExample: <one call and its result>\n\n"
        "Task to rewrite:\n{{ instruction }}"
    ),
)


@register("instruction_enhancement")
class InstructionEnhancementRefiner(LLMOperator):
    """Rewrite each instruction into a uniform task format: task, function signature, input, output, example.

    Uniform tasks make the pairs consistent to train on and name the function that tests and ``check()`` call.
    By default the rewrite replaces ``instruction``; set ``output_key`` to keep both. An answer that lacks the
    required fields (``required_fields``) is unusable, so a malformed rewrite never replaces a good instruction.
    As DataFlow's ``CodeInstructionEnhancement``, with the format checked rather than trusted.
    """

    category: ClassVar[Category] = Category.REFINE
    key_docs = {"output_key": "the instruction in the uniform format"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (code pipeline)",)

    prompt: PromptTemplate = Field(ENHANCEMENT_PROMPT, description="The prompt; it reads the 'instruction' column")
    required_fields: tuple[str, ...] = Field(("Task:", "Function:"), description="Labels the rewrite must contain")
    max_tokens: int = Field(256, ge=1, description="Most tokens to generate per answer")

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "instruction") -> dict[str, Any]:
        text = (result.text or "").strip()
        missing = [label for label in self.required_fields if label not in text]
        if missing:
            raise AnswerError(f"the rewrite lacks {', '.join(missing)}")
        return {output_key: text}
