"""What a serving backend must do: answer one request, or fail with a classified error.

Backends translate a :class:`Request` into their engine's call and its failures into :class:`CallError`, whose
kind decides what the client does next: retry (rate limits, server errors, timeouts, dropped connections), give
up on that row (a bad request), or stop the whole step at once (wrong key, unknown model, nothing listening).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

SAMPLING_PARAMETERS = ("temperature", "max_tokens", "top_p", "seed", "stop")
"""Sampling options every backend understands; anything else is refused so that a typo is not ignored."""

REASK = (
    "Your previous answer was not valid: {problem}. Answer again with only a JSON value that matches the schema, "
    "and nothing else."
)


@dataclass(frozen=True)
class Request:
    prompt: str
    system: str | None = None
    json_schema: dict[str, Any] | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    earlier: tuple[tuple[str, str], ...] = ()
    """Earlier (invalid answer, problem) pairs, replayed as a conversation when the client re-asks."""

    def messages(self) -> list[dict[str, str]]:
        """Chat messages: system, the prompt, then each invalid answer and the request to correct it."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": self.prompt})
        for answer, problem in self.earlier:
            messages.append({"role": "assistant", "content": answer})
            messages.append({"role": "user", "content": REASK.format(problem=problem)})
        return messages

    def reasked(self, answer: str, problem: str) -> Request:
        return replace(self, earlier=(*self.earlier, (answer, problem)))


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CallError(Exception):
    """A call that produced no answer.

    ``retryable`` errors are tried again with backoff (honouring ``retry_after`` seconds when the server gave it);
    ``fatal`` ones mean the configuration is wrong and every other row would fail the same way.
    """

    def __init__(
        self, kind: str, message: str, *, retryable: bool = False, fatal: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.fatal = fatal
        self.retry_after = retry_after


class Backend(Protocol):
    """One serving engine. ``max_parallel`` is how many ``complete`` calls may run at once (1 for an engine that
    is not thread-safe)."""

    @property
    def model_id(self) -> str: ...

    @property
    def max_parallel(self) -> int: ...

    def complete(self, request: Request) -> Completion: ...


class BatchBackend(Backend, Protocol):
    """A backend that is fastest given every request at once (vLLM's offline engine)."""

    def complete_batch(self, requests: Sequence[Request]) -> list[Completion | CallError]: ...
