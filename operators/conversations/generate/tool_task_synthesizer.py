from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import Field

from operators.base import Category, Write
from operators.conversations.tools import tool_problems
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

TOOL_TASK_PROMPT = PromptTemplate(
    name="tool_task_from_scenario",
    version="1",
    system="You design tasks that an AI assistant solves by calling tools (functions). Answer with JSON only.",
    template=(
        "Scenario: {{ scenario }}\n\n"
        "Write one {{ kind_description }} a user in this scenario would ask, and the tools the assistant needs for "
        "it: for each tool a snake_case name, a one-line description and its parameters as a JSON Schema object "
        '(type "object", properties with types and descriptions, required). Answer as {"task": <the user\'s '
        'request>, "tools": [{"name": ..., "description": ..., "parameters": {...}}, ...]}.'
    ),
)

_KINDS = {
    "single": "task that needs exactly one tool call",
    "sequential": "task that needs several tool calls in order, each using the result of the one before",
    "parallel": "task that needs several independent tool calls that can run at the same time, then a summary",
}


@register("tool_task_synthesizer")
class ToolTaskSynthesizer(LLMOperator):
    """Synthesize a tool-use task and the tools it needs from each scenario row: one new row per task, with the
    tools as JSON-Schema function definitions that are checked.

    Covers DataFlow's function-calling chain up to the functions (scenario extraction and expansion, atomic,
    sequential and parallel-sequential tasks, ``FunctionGenerator``) in one step per scenario: ``kind`` asks for a
    task of one call, of dependent calls in sequence, or of independent calls in parallel. The answer's tools must
    each have an identifier name (unique), and parameters that are a valid JSON Schema object (Draft 2020-12,
    checked with jsonschema); otherwise the scenario is rejected as ``llm_unparseable_answer`` with the problems.
    Writes ``task`` and ``tools`` (a JSON array in OpenAI's function shape); ``tool_trajectory_synthesizer``
    then writes conversations that use them.
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    key_docs: ClassVar[dict[str, str]] = {
        "task_key": "the user's request",
        "tools_key": "JSON array of tool definitions: name, description, parameters (JSON Schema object)",
    }

    prompt: PromptTemplate = Field(TOOL_TASK_PROMPT, description="Template over `scenario` and `kind_description`")
    kind: Literal["single", "sequential", "parallel"] = Field("sequential", description="How the calls relate")
    max_tokens: int = Field(1024, ge=1, description="Most tokens to generate per answer")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [column for column in self.prompt.columns() if column != "kind_description"]

    def build_prompt(self, row: dict[str, Any]) -> str:
        return self.prompt.render({**row, "kind_description": _KINDS[self.kind]})

    def json_schema(self) -> dict[str, Any]:
        tool = {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "parameters": {"type": "object"},
            },
            "required": ["name", "description", "parameters"],
        }
        return {
            "type": "object",
            "properties": {"task": {"type": "string"}, "tools": {"type": "array", "items": tool, "minItems": 1}},
            "required": ["task", "tools"],
        }

    def parse(
        self, result: LLMResult, row: dict[str, Any], *, task_key: Write = "task", tools_key: Write = "tools"
    ) -> dict[str, Any]:
        answer = result.parsed if isinstance(result.parsed, dict) else {}
        task, tools = str(answer.get("task") or "").strip(), answer.get("tools")
        problems = ([] if task else ["empty task"]) + tool_problems(tools)
        if problems:
            raise AnswerError("; ".join(problems))
        return {task_key: task, tools_key: json.dumps(tools, ensure_ascii=False)}
