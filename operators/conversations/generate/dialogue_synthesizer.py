from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, model_validator

from operators.base import Category, Write
from operators.conversations.messages import MESSAGES, message
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

DIALOGUE_PROMPT = PromptTemplate(
    name="dialogue_from_seed",
    version="1",
    system="You write realistic conversations between a user and a helpful AI assistant. Answer with JSON only.",
    template=(
        "Write a conversation of {{ turns }} exchanges about: {{ topic }}\n"
        "The user starts, then user and assistant alternate; each user turn follows from the previous answer "
        "(a follow-up, a correction, a new constraint), and the assistant stays consistent with everything said "
        'before. Answer as {"turns": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}, '
        "...]}."
    ),
)
"""After ConsistentChat (DataFlow's ConsistentChatGenerator): multi-turn dialogues whose turns follow from each
other; the consistency is then judged with ``templates.DIALOGUE_CONSISTENCY``."""


@register("dialogue_synthesizer")
class DialogueSynthesizer(LLMOperator):
    """Synthesize a multi-turn user-assistant dialogue from each seed row (a topic, a scenario, an instruction):
    one new row per dialogue, as OpenAI messages, naming its seed.

    The template gets the seed's columns and ``turns`` (user-assistant exchanges asked for); the answer is JSON
    ``{"turns": [{"role", "content"}, ...]}``. It is checked, not repaired: it must start with the user, alternate
    user and assistant, end with the assistant, have between ``min_turns`` and ``turns`` exchanges and no empty
    turn; otherwise the seed is rejected as ``llm_unparseable_answer`` with the reason. ``system`` puts a system
    message first. Judge the dialogues with ``prompted_evaluator`` and ``templates.DIALOGUE_CONSISTENCY`` or
    ``DIALOGUE_QUALITY``; write them for a trainer with ``chat_format``.
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"output_key": MESSAGES}
    key_docs: ClassVar[dict[str, str]] = {"output_key": "the dialogue as OpenAI messages (role, content, ...)"}

    prompt: PromptTemplate = Field(DIALOGUE_PROMPT, description="Template over the seed's columns and `turns`")
    turns: int = Field(3, ge=1, le=20, description="User-assistant exchanges asked for (and the most accepted)")
    min_turns: int = Field(2, ge=1, description="Fewest exchanges accepted")
    system: str | None = Field(None, description="System message put first in every dialogue")
    max_tokens: int = Field(1024, ge=1, description="Most tokens to generate per answer")

    @model_validator(mode="after")
    def _turns_ordered(self) -> DialogueSynthesizer:
        if self.min_turns > self.turns:
            raise ValueError(f"min_turns ({self.min_turns}) exceeds turns ({self.turns})")
        return self

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [column for column in self.prompt.columns() if column != "turns"]

    def build_prompt(self, row: dict[str, Any]) -> str:
        return self.prompt.render({**row, "turns": self.turns})

    def json_schema(self) -> dict[str, Any]:
        turn = {
            "type": "object",
            "properties": {"role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string"}},
            "required": ["role", "content"],
        }
        return {
            "type": "object",
            "properties": {"turns": {"type": "array", "items": turn, "minItems": 2, "maxItems": 2 * self.turns}},
            "required": ["turns"],
        }

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "messages") -> dict[str, Any]:
        turns = result.parsed.get("turns") if isinstance(result.parsed, dict) else None
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise AnswerError("no list of turns in the answer")
        roles = [t.get("role") for t in turns]
        expected = ["user", "assistant"] * (len(turns) // 2)
        if len(turns) % 2 or roles != expected:
            raise AnswerError(f"turns must alternate user, assistant and end with the assistant; got {roles}")
        if not self.min_turns <= len(turns) // 2 <= self.turns:
            raise AnswerError(f"{len(turns) // 2} exchanges, expected {self.min_turns} to {self.turns}")
        if any(not str(t.get("content") or "").strip() for t in turns):
            raise AnswerError("an empty turn")
        system = [message("system", self.system)] if self.system else []
        return {output_key: system + [message(t["role"], str(t["content"]).strip()) for t in turns]}
