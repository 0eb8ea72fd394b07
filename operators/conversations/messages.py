"""The shape of a conversation in a column: OpenAI chat messages, as a polars list of structs.

Every message has ``role`` (system, user, assistant, tool), ``content`` (text; null for an assistant turn that
only calls tools), ``tool_calls`` (a JSON array of ``{"name", "arguments"}`` on an assistant turn that calls
tools, else null) and ``name`` (the tool a ``tool`` message answers, else null). Tool arguments are JSON text
because their shape differs from tool to tool, and Delta columns have one type.
"""

from __future__ import annotations

from typing import Any

import polars as pl

MESSAGE = pl.Struct({"role": pl.String, "content": pl.String, "tool_calls": pl.String, "name": pl.String})
MESSAGES = pl.List(MESSAGE)


def message(role: str, content: str | None, tool_calls: str | None = None, name: str | None = None) -> dict[str, Any]:
    return {"role": role, "content": content, "tool_calls": tool_calls, "name": name}
