from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("code_sft_format")
class CodeSftFormatRefiner(Refiner):
    """Format instruction/code pairs as chat messages for supervised fine-tuning: a user turn and an assistant
    turn holding the code in a Markdown block (a system turn first when ``system`` is set).

    The ``messages`` column is a list of ``{role, content}`` structs, the layout of OpenAI-style chat datasets
    and of Hugging Face's chat templates.
    """

    key_docs = {"output_key": "the conversation: a list of {role, content}"}

    language: str = Field("python", description="The Markdown language tag of the code block")
    system: str | None = Field(None, description="A system message put first in every conversation")

    def expressions(
        self,
        *,
        input_instruction_key: Read = "instruction",
        input_code_key: Read = "code",
        output_key: Write = "messages",
    ) -> dict[str, pl.Expr]:
        def turn(role: str, content: pl.Expr) -> pl.Expr:
            return pl.struct(pl.lit(role).alias("role"), content.alias("content"))

        answer = pl.concat_str(pl.lit(f"```{self.language}\n"), pl.col(input_code_key), pl.lit("\n```"))
        turns = [turn("user", pl.col(input_instruction_key)), turn("assistant", answer)]
        if self.system is not None:
            turns.insert(0, turn("system", pl.lit(self.system)))
        return {output_key: pl.concat_list(turns)}
