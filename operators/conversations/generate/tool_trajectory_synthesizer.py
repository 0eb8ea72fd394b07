from __future__ import annotations

import json
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Read, Write
from operators.columns import REJECT_DETAIL, REJECT_RULE, REJECT_SCORE
from operators.conversations.messages import MESSAGES, message
from operators.conversations.tools import call_problems
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

TRAJECTORY_PROMPT = PromptTemplate(
    name="tool_trajectory",
    version="1",
    system="You write realistic tool-use conversations between a user, an AI assistant and tools. JSON only.",
    template=(
        "Tools (JSON Schema):\n{{ tools }}\n\nUser's task: {{ task }}\n\n"
        "Write the whole conversation: the user's request, the assistant's tool calls (name and arguments that "
        "follow the tool's parameters schema exactly), each tool's result (plausible JSON), and the assistant's "
        'final answer that uses the results. Answer as {"messages": [{"role": "user", "content": ...}, '
        '{"role": "assistant", "content": "", "tool_calls": [{"name": ..., "arguments": {...}}]}, '
        '{"role": "tool", "name": <tool name>, "content": <result>}, ..., {"role": "assistant", "content": ...}]}.'
    ),
)


@register("tool_trajectory_synthesizer")
class ToolTrajectorySynthesizer(LLMOperator):
    """Synthesize a tool-use conversation for each task and its tools, and check every tool call against the
    tool's JSON Schema: one new row per conversation, as OpenAI messages.

    The answer is ``{"messages": [...]}`` with user, assistant (text and/or ``tool_calls``) and tool turns. Its shape
    must hold (an unusable answer is rejected as ``llm_unparseable_answer``): it starts with the user, ends with an
    assistant answer in text, and every tool turn answers a tool called by the assistant turn before it. Then each
    call is validated: the tool must be one of the row's tools and its arguments must validate against the tool's
    ``parameters`` schema (jsonschema, Draft 2020-12). A conversation with a bad call is rejected as
    ``invalid_tool_call``, every problem in the detail and in ``errors_key``; what is kept is trajectories whose
    calls a real executor would accept. ``tool_calls`` counts the calls. Covers DataFlow's
    ``MultiTurnConversationGenerator`` and, for the checks, ``FuncCallConversationSampleEvaluator`` (an LLM judge
    there; a schema check here, plus ``templates.DIALOGUE_QUALITY`` for the judge).
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {
        "output_key": MESSAGES,
        "calls_key": pl.Int64(),
        "errors_key": pl.String(),
    }
    key_docs: ClassVar[dict[str, str]] = {
        "output_key": "the conversation as OpenAI messages; tool_calls and tool arguments as JSON text",
        "calls_key": "number of tool calls in the conversation",
        "errors_key": "the schema problems of the calls (null when every call is valid)",
    }

    prompt: PromptTemplate = Field(TRAJECTORY_PROMPT, description="Template over `task` and `tools`")
    max_tokens: int = Field(1536, ge=1, description="Most tokens to generate per answer")

    def json_schema(self) -> dict[str, Any]:
        call = {
            "type": "object",
            "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
            "required": ["name", "arguments"],
        }
        turn = {
            "type": "object",
            "properties": {
                "role": {"type": "string", "enum": ["user", "assistant", "tool"]},
                "content": {"type": "string"},
                "tool_calls": {"type": "array", "items": call},
                "name": {"type": "string"},
            },
            "required": ["role"],
        }
        return {
            "type": "object",
            "properties": {"messages": {"type": "array", "items": turn, "minItems": 3}},
            "required": ["messages"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        tools_key: Read = "tools",
        output_key: Write = "messages",
        calls_key: Write = "tool_calls",
        errors_key: Write = "tool_call_errors",
    ) -> dict[str, Any]:
        turns = result.parsed.get("messages") if isinstance(result.parsed, dict) else None
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise AnswerError("no list of messages in the answer")
        _check_shape(turns)
        tools = json.loads(row[tools_key])
        calls = [call for turn in turns for call in turn.get("tool_calls") or []]
        problems = [problem for call in calls for problem in call_problems(call, tools)]
        messages = [
            message(
                turn["role"],
                turn.get("content") if turn.get("content") or not turn.get("tool_calls") else None,
                json.dumps(turn["tool_calls"], ensure_ascii=False) if turn.get("tool_calls") else None,
                turn.get("name") if turn["role"] == "tool" else None,
            )
            for turn in turns
        ]
        return {output_key: messages, calls_key: len(calls), errors_key: "; ".join(problems) or None}

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        invalid = pl.col(keys["errors_key"]).is_not_null()
        rejected = answered.filter(invalid).with_columns(
            pl.lit("invalid_tool_call").alias(REJECT_RULE),
            pl.col(keys["calls_key"]).cast(pl.Float64).alias(REJECT_SCORE),
            pl.col(keys["errors_key"]).alias(REJECT_DETAIL),
        )
        return OpResult(kept=answered.filter(~invalid), rejected=rejected)


def _check_shape(turns: list[dict[str, Any]]) -> None:
    """Raise AnswerError unless the turns start with the user, end with an assistant text, and each tool turn
    answers a tool the assistant just called."""
    if turns[0].get("role") != "user":
        raise AnswerError("the conversation must start with the user")
    last = turns[-1]
    if last.get("role") != "assistant" or last.get("tool_calls") or not str(last.get("content") or "").strip():
        raise AnswerError("the conversation must end with the assistant's answer in text")
    pending: list[str] = []
    for index, turn in enumerate(turns):
        role = turn.get("role")
        if role == "assistant":
            pending = [str(call.get("name")) for call in turn.get("tool_calls") or [] if isinstance(call, dict)]
        elif role == "tool":
            if turn.get("name") not in pending:
                raise AnswerError(f"turn {index}: a result of {turn.get('name')!r}, which was not just called")
            pending.remove(turn["name"])
        elif role == "user":
            pending = []
