"""What a serving backend must do: answer one request, or fail with a classified error.

Backends translate a :class:`Request` into their engine's call and its failures into :class:`CallError`, whose
kind decides what the client does next: retry (rate limits, server errors, timeouts, dropped connections), give
up on that row (a bad request), or stop the whole step at once (wrong key, unknown model, nothing listening).

A prompt is a string (one user message) or a conversation: a list of ``{"role": "system" | "user" |
"assistant", "content": str}`` messages, for multi-turn input. Every backend sends :meth:`Request.messages`.

A :class:`ScoreRequest` asks instead for the log-probability of every token of a text after a context (perplexity,
IFD): one forward pass, nothing sampled. Its answer is a :class:`Completion` with ``logprobs`` set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

SAMPLING_PARAMETERS = ("temperature", "max_tokens", "top_p", "seed", "stop")
"""Sampling options every backend understands; anything else is refused so that a typo is not ignored."""

ROLES = ("system", "user", "assistant")

CONNECTION_FAILURES = frozenset({"unreachable", "connection_dropped"})
"""Error kinds where no reply came back at all (nothing listening, connection closed without an answer): the
client's circuit breaker counts them in a row."""

REASK = (
    "Your previous answer was not valid: {problem}. Answer again with only a JSON value that matches the schema, "
    "and nothing else."
)


class InvalidPrompt(ValueError):
    """A prompt that is neither a string nor a well-formed list of chat messages; that row fails alone."""


def conversation(prompt: Any) -> str | tuple[dict[str, str], ...]:
    """The prompt as given when it is a string, else its messages checked and copied (``role`` and ``content``
    only: another key would be dropped by some backends and kept by others, so it is refused)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Mapping) or not isinstance(prompt, Sequence) or not prompt:
        raise InvalidPrompt(f"a prompt must be a string or a non-empty list of chat messages, not {prompt!r:.100}")
    messages = []
    for number, message in enumerate(prompt):
        if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
            raise InvalidPrompt(
                f"message {number} must be a mapping with exactly the keys 'role' and 'content', not {message!r:.100}"
            )
        if message["role"] not in ROLES or not isinstance(message["content"], str):
            raise InvalidPrompt(
                f"message {number} needs a role in {ROLES} and string content, not {dict(message)!r:.100}"
            )
        messages.append({"role": message["role"], "content": message["content"]})
    return tuple(messages)


@dataclass(frozen=True)
class Request:
    prompt: str | tuple[dict[str, str], ...]
    """A string, or the conversation's messages (build with :func:`conversation` to check them)."""
    system: str | None = None
    """Sent first, unless the conversation has a system message of its own."""
    json_schema: dict[str, Any] | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    earlier: tuple[tuple[str, str], ...] = ()
    """Earlier (invalid answer, problem) pairs, replayed as a conversation when the client re-asks."""

    def messages(self) -> list[dict[str, str]]:
        """Chat messages: the system prompt, the prompt's messages, then each invalid answer and the request to
        correct it."""
        if isinstance(self.prompt, str):
            messages = [{"role": "user", "content": self.prompt}]
        else:
            messages = [dict(message) for message in self.prompt]
        if self.system and not any(message["role"] == "system" for message in messages):
            messages.insert(0, {"role": "system", "content": self.system})
        for answer, problem in self.earlier:
            messages.append({"role": "assistant", "content": answer})
            messages.append({"role": "user", "content": REASK.format(problem=problem)})
        return messages

    def reasked(self, answer: str, problem: str) -> Request:
        return replace(self, earlier=(*self.earlier, (answer, problem)))


@dataclass(frozen=True)
class ScoreRequest:
    text: str
    context: str | None = None
    """Read before the text and not scored; None: the text starts a document."""


def scored_span(
    encode: Callable[[str], list[int]], request: ScoreRequest, prefix: Sequence[int]
) -> tuple[list[int], int]:
    """The token ids a backend that tokenizes itself evaluates for ``request``, and the index of the first one
    scored (every later one is scored too).

    ``prefix`` holds the special tokens the model's tokenizer puts before every text (a BOS, for models that add
    one) and ``encode`` tokenizes without them. The text is tokenized as it follows its context, in one string as
    a server would see it; the tokens that differ from the context's own tokenization are the text's, so a token
    that spans the boundary is scored with the text. Without a context, the text's first token is scored only
    after a prefix: a model that adds none (GPT-2, Qwen, SmolLM2) has nothing to predict it from, and it is left
    out, as OpenAI-compatible servers and a Hugging Face forward pass leave it out. A token the tokenizer does not
    add (SmolLM2-Instruct declares ``<|im_start|>`` as its BOS but never adds it) is not prepended: the scores
    would then differ from the model's own."""
    tokens = [*prefix, *encode((request.context or "") + request.text)]
    if not request.context:
        return tokens, 1
    context = [*prefix, *encode(request.context)]
    shared = next((i for i, (a, b) in enumerate(zip(tokens, context, strict=False)) if a != b), len(context))
    return tokens, max(shared, 1)


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: tuple[float, ...] | None = None
    """A scoring request's answer: the log-probability of each token of the text (``text`` is empty)."""


class CallError(Exception):
    """A call that produced no answer.

    ``retryable`` errors are tried again with backoff (honouring ``retry_after`` seconds when the server gave it);
    ``fatal`` ones mean the configuration is wrong and every other row would fail the same way (``hint`` then says
    what to fix).
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        retryable: bool = False,
        fatal: bool = False,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.fatal = fatal
        self.retry_after = retry_after
        self.hint = hint


class Backend(Protocol):
    """One serving engine. ``max_parallel`` is how many ``complete`` calls may run at once (1 for an engine that
    is not thread-safe)."""

    @property
    def model_id(self) -> str: ...

    @property
    def max_parallel(self) -> int: ...

    def complete(self, request: Request) -> Completion: ...

    def score(self, request: ScoreRequest) -> Completion: ...


class BatchBackend(Backend, Protocol):
    """A backend that is fastest given every request at once (vLLM's offline engine)."""

    def complete_batch(self, requests: Sequence[Request]) -> list[Completion | CallError]: ...

    def score_batch(self, requests: Sequence[ScoreRequest]) -> list[Completion | CallError]: ...
