"""Tool definitions and tool calls: checking them against JSON Schema (jsonschema, Draft 2020-12).

A tool is ``{"name", "description", "parameters"}`` with ``parameters`` an object schema, as in OpenAI's function
calling; a call is ``{"name", "arguments"}``. The checks return readable problems rather than raising, so that a
synthesized trajectory with a bad call is kept aside with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


def tool_problems(tools: Any) -> list[str]:
    """What is wrong with a list of tool definitions (empty when nothing is)."""
    if not isinstance(tools, list) or not tools:
        return ["tools must be a non-empty list"]
    problems, seen = [], set()
    for index, tool in enumerate(tools):
        name = tool.get("name") if isinstance(tool, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(f"tool {index}: name {name!r} is not an identifier")
            continue
        if name in seen:
            problems.append(f"tool {name}: defined twice")
        seen.add(name)
        parameters = tool.get("parameters")
        if not isinstance(parameters, dict) or parameters.get("type") != "object":
            problems.append(f"tool {name}: parameters must be an object schema")
            continue
        try:
            Draft202012Validator.check_schema(parameters)
        except SchemaError as error:
            problems.append(f"tool {name}: invalid parameters schema: {error.message}")
    return problems


def call_problems(call: Any, tools: list[dict[str, Any]]) -> list[str]:
    """What is wrong with one tool call against the tools defined (empty when nothing is)."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return [f"call {call!r} has no tool name"]
    by_name = {tool["name"]: tool for tool in tools}
    tool = by_name.get(call["name"])
    if tool is None:
        return [f"call to undefined tool {call['name']!r} (defined: {', '.join(sorted(by_name))})"]
    arguments = call.get("arguments", {})
    validator = Draft202012Validator(tool["parameters"])
    return [
        f"call to {call['name']}: {error.message}" + (f" at {'/'.join(map(str, error.path))}" if error.path else "")
        for error in sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
    ]
