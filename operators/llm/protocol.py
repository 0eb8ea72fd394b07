"""The one call every LLM-driven operator makes, whatever serves the model.

``resources.llm`` implements it over an OpenAI-compatible endpoint, vLLM in-process or an embedded llama.cpp
model, with caching, retries and limits; tests implement it with a scripted fake. Operators never see more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]
"""A chat message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""

Prompt = str | list[Message]
"""A prompt is a user message, or a whole conversation (multi-turn input) ending with the user's turn."""


@dataclass(frozen=True)
class LLMResult:
    """The outcome of one prompt. A failed call has ``error`` set (and no text); it is never a silent None."""

    text: str | None
    parsed: Any = None
    """The JSON value of ``text`` when a schema was asked for and the answer matched it."""
    error: str | None = None
    """Error kind, e.g. ``rate_limited``, ``server_error``, ``timeout``, ``invalid_json``, ``bad_request``."""
    error_message: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    latency_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class LLM(Protocol):
    """Generate one result per prompt, in order."""

    @property
    def model_id(self) -> str: ...

    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        system: str | None = None,
        json_schema: dict[str, Any] | None = None,
        template: str | None = None,
        **sampling: Any,
    ) -> list[LLMResult]:
        """A prompt is a string or a list of chat messages; ``system`` is prepended when the messages have none.
        ``template`` names the prompt template and version (``name@version``) for caching and lineage;
        ``sampling`` holds ``temperature``, ``max_tokens``, ``top_p``, ``seed`` and the like."""
        ...
