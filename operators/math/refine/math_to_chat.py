from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("math_to_chat")
class MathToChatRefiner(Refiner):
    """Write each (question, solution) pair as a chat conversation for SFT: ``[{role, content}, ...]``.

    The column is a list of ``{"role", "content"}`` structs (the messages format of OpenAI's chat API, Hugging Face
    chat templates and TRL's SFT trainer): an optional system message, the question as the user's turn (after an
    optional ``instruction``, e.g. "Put the final answer in \\boxed{}."), the solution as the assistant's. A row
    with a null question or solution gets a null conversation. Vectorized.
    """

    key_docs = {
        "input_question_key": "the question (the user's turn)",
        "input_answer_key": "the solution (the assistant's turn)",
        "output_messages_key": "the conversation: a list of {role, content}",
    }
    references = ("Hugging Face TRL SFTTrainer, conversational dataset format (messages: role, content)",)

    system: str | None = Field(None, description="System message opening every conversation (none if unset)")
    instruction: str | None = Field(None, description="Text appended to the question in the user's turn")

    def expressions(
        self,
        *,
        input_question_key: Read = "question",
        input_answer_key: Read = "solution",
        output_messages_key: Write = "messages",
    ) -> dict[str, pl.Expr]:
        question = pl.col(input_question_key).str.strip_chars()
        if self.instruction:
            question = pl.concat_str(question, pl.lit(f"\n\n{self.instruction}"))
        turns = [("user", question), ("assistant", pl.col(input_answer_key).str.strip_chars())]
        if self.system:
            turns.insert(0, ("system", pl.lit(self.system)))
        messages = pl.concat_list(
            [pl.struct(pl.lit(role).alias("role"), content.alias("content")) for role, content in turns]
        )
        complete = pl.all_horizontal(pl.col(input_question_key).is_not_null(), pl.col(input_answer_key).is_not_null())
        return {output_messages_key: pl.when(complete).then(messages).otherwise(None)}
