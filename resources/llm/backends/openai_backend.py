"""Any OpenAI-compatible chat endpoint through the ``openai`` client: OpenAI, vLLM's and SGLang's servers,
llama.cpp's server, Ollama, Gemini's compatible endpoint, LiteLLM proxies.

The ``openai`` client's own retries are switched off (``max_retries=0``): the LLM client retries with its own
policy and counts every attempt. The API key is held by the ``openai`` client only; error messages built here
never include it, and any text that might echo it is scrubbed.

Token scores use the legacy ``/v1/completions`` endpoint with ``echo=true, logprobs=0, max_tokens=1``: the server
returns the prompt's tokens with their log-probabilities and character offsets (OpenAI's format, which vLLM's
server follows; llama-cpp-python's follows it with wrong values, see docs/llm.md). The prompt is the context
followed by the text; the tokens that hold a character of the text are the text's (a token spanning the boundary
included), the generated token is dropped, and so is a first token without a log-probability (nothing precedes
it). ``max_tokens=1`` rather than 0: some servers read 0 as "no limit". A server that returns no
log-probabilities fails the step at once: every row would fail the same way.

When is a key needed? OpenAI's own API (``api.openai.com``, the default ``base_url``) always needs one, so a
missing key is an error naming the variable before any request is sent (:func:`require_key`). Any other endpoint
may need none (vLLM, SGLang, llama.cpp's server and Ollama run without one by default; a proxy or a hosted API may
want one): the request goes out without a key, and a 401 or 403 reply fails the step at once, naming the variable
that is unset.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import openai
from openai.types import Completion as TextCompletion
from openai.types.chat import ChatCompletion

from resources.llm.backend import CallError, Completion, Request, ScoreRequest
from resources.llm.errors import LLMConfigurationError

StructuredOutput = Literal["json_schema", "json_object", "none"]
OPENAI_URL = "https://api.openai.com/v1"
KEYED_HOSTS = ("api.openai.com",)
"""Endpoints that always need a key: a missing one is reported before any request."""


class OpenAIBackend:
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout_s: float = 60.0,
        structured_output: StructuredOutput = "json_schema",
        max_parallel: int = 64,
    ) -> None:
        """``api_key_env`` names the variable the key was read from, for error messages."""
        self.model = model
        self.base_url = base_url or OPENAI_URL
        self.structured_output = structured_output
        self.api_key_env = api_key_env
        self._max_parallel = max_parallel
        self._secret = api_key or ""
        require_key(self.model_id, self.base_url, api_key, api_key_env)
        # Servers that need no key (vLLM, llama.cpp, Ollama) still get a placeholder: the client requires one.
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    @property
    def model_id(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    @property
    def max_parallel(self) -> int:
        return self._max_parallel

    def complete(self, request: Request) -> Completion:
        try:
            response = self._client.chat.completions.create(**self.arguments(request))
        except openai.APIError as error:
            raise classify_error(
                error, base_url=self.base_url, model=self.model, secret=self._secret, api_key_env=self.api_key_env
            ) from None
        except ValueError as error:  # a 200 whose body is not JSON
            raise CallError(
                "bad_response", scrub(f"the reply is not JSON: {error}", self._secret), retryable=True
            ) from None
        if not isinstance(response, ChatCompletion):  # a 200 whose body is not a chat completion
            raise CallError("bad_response", "the reply is not a chat completion", retryable=True)
        if not response.choices or response.choices[0].message.content is None:
            raise CallError("empty_answer", "the server returned no message content", retryable=True)
        usage = response.usage
        return Completion(
            text=response.choices[0].message.content,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def score(self, request: ScoreRequest) -> Completion:
        prompt = (request.context or "") + request.text
        try:
            response = self._client.completions.create(
                model=self.model, prompt=prompt, echo=True, logprobs=0, max_tokens=1, temperature=0.0
            )
        except openai.APIError as error:
            failure = classify_error(
                error, base_url=self.base_url, model=self.model, secret=self._secret, api_key_env=self.api_key_env
            )
            if failure.kind == "model_not_found":
                failure.hint = "check the model name, and that the server has /v1/completions (scoring needs it)"
            raise failure from None
        except ValueError as error:  # a 200 whose body is not JSON
            raise CallError(
                "bad_response", scrub(f"the reply is not JSON: {error}", self._secret), retryable=True
            ) from None
        if not isinstance(response, TextCompletion) or not response.choices:
            raise CallError("bad_response", "the reply is not a text completion", retryable=True)
        logprobs = echoed_logprobs(response.choices[0].logprobs, len(request.context or ""), len(prompt))
        tokens = response.usage.prompt_tokens if response.usage else 0
        return Completion(text="", prompt_tokens=tokens, logprobs=logprobs)

    def arguments(self, request: Request) -> dict[str, Any]:
        """The ``chat.completions.create`` arguments for a request."""
        arguments: dict[str, Any] = {"model": self.model, "messages": request.messages(), **request.sampling}
        if request.json_schema is not None and self.structured_output == "json_schema":
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.json_schema},
            }
        elif request.json_schema is not None and self.structured_output == "json_object":
            arguments["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return arguments


def echoed_logprobs(logprobs: Any, text_start: int, prompt_end: int) -> tuple[float, ...]:
    """The log-probabilities of the tokens of an echoed prompt that hold a character at or after ``text_start``
    (the text, after its context) and start before ``prompt_end`` (not generated); a token whose log-probability
    is null (the first) is left out. ``logprobs`` is a choice's ``logprobs`` (``tokens``, ``token_logprobs``,
    ``text_offset``)."""
    values = getattr(logprobs, "token_logprobs", None)
    offsets = getattr(logprobs, "text_offset", None)
    if not values or not offsets or len(values) != len(offsets):
        raise CallError(
            "no_logprobs",
            "the server returned no token log-probabilities with their text offsets for an echoed prompt",
            fatal=True,
            hint="serve the model where /v1/completions honours echo and logprobs (vLLM's server), or use the "
            "local or vllm backend",
        )
    ends = [*offsets[1:], prompt_end]  # a token ends where the next one starts
    return tuple(
        float(value)
        for value, offset, end in zip(values, offsets, ends, strict=True)
        if value is not None and offset < prompt_end and end > text_start
    )


def require_key(engine: str, base_url: str, api_key: str | None, api_key_env: str | None) -> None:
    """Fail before any request when ``base_url`` always needs a key and none was given, naming the variable."""
    if not api_key and urlsplit(base_url).hostname in KEYED_HOSTS:
        raise LLMConfigurationError(
            f"{engine}: {base_url} needs an API key, and {_missing_key(api_key_env)}", hint=_key_hint(api_key_env)
        )


def classify_error(
    error: openai.APIError, *, base_url: str, model: str, secret: str, api_key_env: str | None = None
) -> CallError:
    """What a failed call of the ``openai`` client means for the caller: retry, give up on the row, or stop (any
    OpenAI-compatible endpoint: chat completions here, embeddings in ``resources.embedder``). ``secret`` (the API
    key) is scrubbed from every message; ``api_key_env`` (the variable it came from) is named when it is refused
    or missing."""
    # By name: openai 3 runs on httpx2, older releases on httpx; both call them ConnectError and ConnectTimeout.
    if type(error.__cause__).__name__ in ("ConnectError", "ConnectTimeout"):
        return CallError(
            "unreachable", f"nothing answers at {base_url}", fatal=True, hint="start the server, or fix base_url"
        )
    if isinstance(error, openai.APITimeoutError):
        return CallError("timeout", "no answer before the timeout", retryable=True)
    if isinstance(error, openai.APIConnectionError):
        return CallError("connection_dropped", scrub(str(error.__cause__ or error), secret), retryable=True)
    if isinstance(error, openai.APIStatusError):
        return _classify_status(error, base_url=base_url, model=model, secret=secret, api_key_env=api_key_env)
    # A 200 whose body is not the expected object (malformed JSON, wrong shape): a server glitch, try again.
    return CallError("bad_response", scrub(str(error), secret), retryable=True)


def _classify_status(
    error: openai.APIStatusError, *, base_url: str, model: str, secret: str, api_key_env: str | None
) -> CallError:
    status, message = error.status_code, scrub(_server_message(error), secret)
    retry_after = _retry_after(error.response)
    if status in (401, 403):
        if secret:
            problem, hint = f"the key in {_variable(api_key_env)} was refused: check the API key", None
        else:
            problem, hint = f"an API key is needed and {_missing_key(api_key_env)}", _key_hint(api_key_env)
        return CallError("auth_failed", f"HTTP {status} from {base_url}: {problem} ({message})", fatal=True, hint=hint)
    if status == 429 and _error_code(error) == "insufficient_quota":  # billing: waiting will not help
        return CallError(
            "quota_exceeded", f"HTTP 429 from {base_url}: {message}", fatal=True, hint="check the account's plan"
        )
    if status == 404:
        return CallError(
            "model_not_found",
            f"HTTP 404 for model {model!r} at {base_url}: {message}",
            fatal=True,
            hint="check the model name the server serves",
        )
    if status == 429:
        return CallError("rate_limited", message, retryable=True, retry_after=retry_after)
    if status in (408, 409) or status >= 500:
        return CallError("server_error", f"HTTP {status}: {message}", retryable=True, retry_after=retry_after)
    return CallError("bad_request", f"HTTP {status}: {message}")


def scrub(text: str, secret: str) -> str:
    """``text`` with the API key replaced by ``***`` (a proxy may echo the key in an error message)."""
    return text.replace(secret, "***") if secret else text


def _variable(api_key_env: str | None) -> str:
    return f"the environment variable {api_key_env}" if api_key_env else "the api_key argument"


def _missing_key(api_key_env: str | None) -> str:
    return f"{_variable(api_key_env)} (api_key_env) is not set or empty" if api_key_env else "no key was given"


def _key_hint(api_key_env: str | None) -> str:
    if api_key_env:
        return f"export {api_key_env}=<your key>, or set api_key_env to the variable that holds it"
    return "pass api_key="


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
    return str(error.message)[:500]


def _error_code(error: openai.APIStatusError) -> str | None:
    body = error.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    return inner.get("code") if isinstance(inner, dict) else None


def _retry_after(response: Any) -> float | None:
    """Seconds from a ``Retry-After`` header (an httpx or httpx2 response), when given as a number."""
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from LLM servers; fall back to backoff
