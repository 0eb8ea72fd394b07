from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("flatten_qa")
class FlattenQARefiner(Refiner):
    """Turn QA rows into instruction-tuning rows: instruction (question), input (context or empty), output (answer).

    The Alpaca layout most SFT trainers read.

    With ``include_context`` the chunk the pair came from becomes the input (reading-comprehension style); without
    it the model must learn the fact itself (closed-book, as in DataFlow's knowledge extraction output).
    """

    key_docs = {
        "instruction_key": "the instruction (the question)",
        "input_key_out": "the input (the context, or empty)",
        "output_key": "the expected output (the answer)",
    }
    example = "FlattenQARefiner(include_context=False)"

    include_context: bool = Field(False, description="Put the source chunk in the input column")

    def expressions(
        self,
        *,
        question_key: Read = "question",
        answer_key: Read = "answer",
        context_key: Read = "context",
        instruction_key: Write = "instruction",
        input_key_out: Write = "input",
        output_key: Write = "output",
    ) -> dict[str, pl.Expr]:
        context = pl.col(context_key) if self.include_context else pl.lit("")
        return {
            instruction_key: pl.col(question_key).str.strip_chars(),
            input_key_out: context,
            output_key: pl.col(answer_key).str.strip_chars(),
        }
