from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.code.languages import extract_code
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

CODE_PROMPT = PromptTemplate(
    name="instruction_to_code",
    version="1",
    system="You are an expert programmer. Reply with one complete code block and nothing else.",
    template=(
        "Solve the task below in Python. Write self-contained code with the function "
        "names the task asks for, no example usage and no input() calls.\n\nTask:\n{{ instruction }}"
    ),
)


@register("instruction_to_code")
class InstructionToCodeGenerator(LLMOperator):
    """Write code for each instruction: the answer's code block, each solution a new row naming its instruction.

    The code is taken from the answer's first Markdown code block in ``language`` (or the first block, or the
    whole answer when there is none). Every solution is a new sample (``_parent_ids`` holds the instruction's
    row); with ``n`` > 1 (and a temperature above 0) each instruction gets ``n`` solutions numbered in
    ``_sample``: the input of pass@k. An answer without code is unusable (``llm_unparseable_answer``).
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    key_docs = {"output_key": "the generated code"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (code pipeline)",)

    prompt: PromptTemplate = Field(CODE_PROMPT, description="The prompt; it reads the 'instruction' column")
    language: str = Field("python", description="Language of the code block taken from the answer")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "code") -> dict[str, Any]:
        code = extract_code(result.text or "", self.language)
        if not code.strip():
            raise AnswerError("the answer holds no code")
        return {output_key: code}
