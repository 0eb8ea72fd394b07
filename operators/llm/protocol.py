"""The calls LLM-driven operators make, whatever serves the model: ``generate`` (answers to prompts) and
``score_tokens`` (the log-probability of every token of a text, for perplexity-style scores).

``resources.llm`` implements them over an OpenAI-compatible endpoint, vLLM in-process or an embedded llama.cpp
model, with caching, retries and limits; tests implement them with a scripted fake. Operators never see more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
    logprobs: tuple[float, ...] | None = None
    """Set when the call scored a text instead of answering a prompt: its tokens' log-probabilities (the LLM
    client builds :class:`TokenScores` from them)."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class TokenScores:
    """The log-probabilities of one text's tokens. A failed call has ``error`` set (and no log-probabilities)."""

    logprobs: list[float] = field(default_factory=list)
    """Natural-log probability of each token of the text given what precedes it, in order; the context's tokens
    are not included."""
    error: str | None = None
    """Error kind, as for :class:`LLMResult` (``server_error``, ``bad_request``, ...)."""
    error_message: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class LLM(Protocol):
    """Generate one result per prompt, in order; score the tokens of texts."""

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

    def score_tokens(self, texts: Sequence[str], *, contexts: Sequence[str | None] | None = None) -> list[TokenScores]:
        """For each text, the log-probability of each of its tokens after ``contexts[i]`` (None: at the start of a
        document) and the text's earlier tokens, from one forward pass without sampling; one result per text, in
        order. The text is tokenized as it follows its context; a token spanning the boundary counts as the
        text's."""
        ...
