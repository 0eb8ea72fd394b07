from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

SFT_PAIR_PROMPT = PromptTemplate(
    name="sft_pair_from_document",
    version="1",
    system="You write instruction-tuning data: a realistic user instruction and a helpful, correct answer.",
    template=(
        "Read the document and write one instruction a user might give about it, and the ideal response, using "
        'only facts from the document. Answer with JSON: {"instruction": <text>, "response": <text>}.\n\n'
        "Document:\n{{ text }}"
    ),
)


@register("sft_pair")
class SftPairGenerator(LLMOperator):
    """Synthesize an (instruction, response) pair from a seed document, as structured JSON.

    Each pair is a new sample: it gets its own ``_row_id`` and names its seed document in ``_parent_ids``, so a
    training pair can be traced back to the text it was written from.
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True

    prompt: PromptTemplate = Field(SFT_PAIR_PROMPT, description="The synthesis prompt; it reads the 'text' column")
    max_tokens: int = Field(256, ge=1, description="Most tokens to generate per answer")
    min_chars: int = Field(8, ge=1, description="Shortest instruction or response accepted")

    def json_schema(self) -> dict[str, Any]:
        text = {"type": "string", "minLength": self.min_chars}
        return {
            "type": "object",
            "properties": {"instruction": text, "response": text},
            "required": ["instruction", "response"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        instruction_key: Write = "instruction",
        response_key: Write = "response",
    ) -> dict[str, Any]:
        answer = result.parsed
        if not isinstance(answer, dict):
            raise AnswerError("the answer is not a JSON object")
        instruction, response = str(answer.get("instruction", "")).strip(), str(answer.get("response", "")).strip()
        if len(instruction) < self.min_chars or len(response) < self.min_chars:
            raise AnswerError(f"instruction or response shorter than {self.min_chars} characters")
        return {instruction_key: instruction, response_key: response}
