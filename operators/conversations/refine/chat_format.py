from __future__ import annotations

import json
from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.conversations.messages import MESSAGES
from operators.registry import register

_TO_SHAREGPT = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}
_FROM_SHAREGPT = {"system": "system", "human": "user", "gpt": "assistant", "observation": "tool"}
SHAREGPT = pl.List(pl.Struct({"from": pl.String, "value": pl.String}))


@register("chat_format")
class ChatFormatRefiner(Refiner):
    """Convert conversations between the chat formats trainers read: OpenAI messages and ShareGPT.

    ``openai``: a list of ``{role, content, tool_calls, name}`` (``operators.conversations.messages``), the form of
    the Chat Completions API and of Hugging Face chat templates. ``sharegpt``: a list of ``{from, value}`` with
    ``from`` in human, gpt, system, and for tool use function_call and observation (LLaMA-Factory's ShareGPT
    variant: an assistant turn that calls tools becomes a ``function_call`` turn whose value is the JSON call,
    after a ``gpt`` turn with its text if it has any). ``source`` says what the input column holds: ``messages``
    or ``sharegpt`` (a conversation), or ``pair`` (an instruction column, read from ``input_key``, and a response
    column, ``response_key``; a ``system`` prompt is put first when given). A conversation is written as JSON text
    with ``as_json`` (for a JSON-lines export), else as a list column.
    """

    key_docs: ClassVar[dict[str, str]] = {"output_key": "the conversation in the target format"}

    source: Literal["pair", "messages", "sharegpt"] = Field("messages", description="What the input column holds")
    target: Literal["openai", "sharegpt"] = Field("sharegpt", description="The format to write")
    system: str | None = Field(None, description="System prompt put first (source 'pair' only)")
    as_json: bool = Field(False, description="Write the conversation as JSON text instead of a list column")

    def expressions(
        self,
        *,
        input_key: Read = "messages",
        response_key: Read = "response",
        output_key: Write = "conversation",
    ) -> dict[str, pl.Expr]:
        dtype = MESSAGES if self.target == "openai" else SHAREGPT
        columns = [input_key, response_key] if self.source == "pair" else [input_key]
        converted = pl.struct(columns).map_batches(
            lambda rows: pl.Series([self._convert(row, columns) for row in rows.to_list()], dtype=dtype),
            return_dtype=dtype,
        )
        if self.as_json:
            converted = converted.map_batches(
                lambda s: pl.Series([None if v is None else json.dumps(v, ensure_ascii=False) for v in s.to_list()]),
                return_dtype=pl.String,
            )
        return {output_key: converted}

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [keys["input_key"], *([keys["response_key"]] if self.source == "pair" else [])]

    def _convert(self, row: dict, columns: list[str]) -> list[dict] | None:
        values = [row[c] for c in columns]
        if any(v is None for v in values):
            return None
        if self.source == "pair":
            system = (
                [{"role": "system", "content": self.system, "tool_calls": None, "name": None}] if self.system else []
            )
            openai = [*system, *({"role": r, "content": v, "tool_calls": None, "name": None} for r, v in
                                 zip(("user", "assistant"), values, strict=True))]  # fmt: skip
        elif self.source == "sharegpt":
            openai = [_from_sharegpt(turn) for turn in values[0]]
        else:
            openai = values[0]
        return openai if self.target == "openai" else [t for m in openai for t in _to_sharegpt(m)]


def _to_sharegpt(message: dict) -> list[dict]:
    turns = []
    if message.get("content") or not message.get("tool_calls"):
        turns.append({"from": _TO_SHAREGPT[message["role"]], "value": message.get("content") or ""})
    if message.get("tool_calls"):
        turns += [{"from": "function_call", "value": json.dumps(c)} for c in json.loads(message["tool_calls"])]
    return turns


def _from_sharegpt(turn: dict) -> dict:
    if turn["from"] == "function_call":
        return {"role": "assistant", "content": None, "tool_calls": json.dumps([json.loads(turn["value"])]),
                "name": None}  # fmt: skip
    return {"role": _FROM_SHAREGPT[turn["from"]], "content": turn["value"], "tool_calls": None, "name": None}
