"""vLLM's offline engine in-process: every pending request of a ``generate`` call goes into one ``LLM.chat`` call,
so the engine's continuous batching sees the whole workload at once.

vLLM has no CPU build: it is the optional ``gpu`` extra, imported only when the engine is first needed, so that
this module (and its translation functions) load anywhere. A test or a caller that already holds an engine passes
it as ``engine=``; nothing is imported then except the sampling-parameter classes (``sampling_module=``
replaces those too).

Failures: a request that cannot be expressed (unknown sampling key, parameters vLLM refuses) fails alone. vLLM
validates a batch while adding it and raises for the whole ``chat`` call when one prompt is invalid (longer than
the context, say), so a batch refused with a ``ValueError`` is split in halves until the culprit is alone, which
then gets ``bad_request``; the rest still run batched. Any other exception fails every request of the batch with
``backend_error``.

Token scores (``score_batch``) go through ``LLM.generate`` with ``SamplingParams(prompt_logprobs=0,
max_tokens=1)``: vLLM returns, for every prompt position after the first, a dict holding the prompt token's own
``Logprob``. The prompts are given as token ids (the engine's tokenizer, :func:`scored_span`'s rules), so the
context's tokens are known and left out.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

from resources.llm.backend import SAMPLING_PARAMETERS, CallError, Completion, Request, ScoreRequest, scored_span

INSTALL_HINT = "install the gpu extra: pip install '.[gpu]' (vllm>=0.8, needs a CUDA GPU)"
CONTEXT_LENGTH_MARKERS = ("maximum model length", "context length", "reduce the length", "max_model_len")
"""Phrases of vLLM's prompt-too-long errors across versions ("The decoder prompt (length N) is longer than the
maximum model length of M", "However, the model's context length is only N tokens ...")."""


def chat_messages(requests: Sequence[Request]) -> list[list[dict[str, str]]]:
    """One conversation per request (system prompt, prompt, then any invalid answers and re-asks)."""
    return [request.messages() for request in requests]


def sampling_kwargs(request: Request) -> dict[str, Any]:
    """``SamplingParams`` keyword arguments for a request's sampling options.

    ``max_tokens`` defaults to None ("up to the context length", as a server does), never to ``SamplingParams``'
    own default of 16 tokens, which would silently truncate every answer.
    """
    unknown = sorted(set(request.sampling) - set(SAMPLING_PARAMETERS))
    if unknown:
        raise CallError("bad_request", f"unknown sampling parameter(s) {unknown}; known: {list(SAMPLING_PARAMETERS)}")
    kwargs: dict[str, Any] = {"max_tokens": None}
    kwargs.update({key: value for key, value in request.sampling.items() if value is not None})
    return kwargs


def structured_kwargs(schema: dict[str, Any] | None, module: Any) -> dict[str, Any]:
    """The ``SamplingParams`` argument that constrains decoding to a JSON schema, in the installed vLLM's terms.

    ``module`` is ``vllm.sampling_params`` (or a stand-in): ``StructuredOutputsParams`` with the
    ``structured_outputs`` field is the API from vLLM 0.11 on (vllm-project/vllm#22772; the old one was removed
    in 0.12); ``GuidedDecodingParams`` with ``guided_decoding`` is the one of vLLM 0.8 to 0.11.
    """
    if schema is None:
        return {}
    if hasattr(module, "StructuredOutputsParams"):
        return {"structured_outputs": module.StructuredOutputsParams(json=schema)}
    if hasattr(module, "GuidedDecodingParams"):
        return {"guided_decoding": module.GuidedDecodingParams(json=schema)}
    raise CallError("backend_unavailable", f"this vLLM offers no JSON-schema decoding; {INSTALL_HINT}", fatal=True)


def to_completion(output: Any) -> Completion | CallError:
    """A ``RequestOutput`` as a completion: its first sequence's text and both token counts."""
    if not getattr(output, "outputs", None):
        return CallError("backend_error", "vLLM returned no sequence for this request")
    first = output.outputs[0]
    return Completion(
        text=first.text,
        prompt_tokens=len(output.prompt_token_ids or ()),
        completion_tokens=len(first.token_ids or ()),
    )


def token_spans(tokenizer: Any, requests: Sequence[ScoreRequest]) -> list[tuple[list[int], int]]:
    """Each request's prompt token ids and the index of its first scored token, with the engine's (Hugging Face)
    tokenizer: the special tokens it puts before a text (a BOS, or none) found by encoding a word with and without
    them."""
    plain = list(tokenizer.encode("a", add_special_tokens=False))
    special = list(tokenizer.encode("a", add_special_tokens=True))
    at = next((i for i in range(len(special)) if special[i : i + len(plain)] == plain), 0)
    return [
        scored_span(lambda text: list(tokenizer.encode(text, add_special_tokens=False)), request, special[:at])
        for request in requests
    ]


def to_scores(output: Any, tokens: list[int], first: int) -> Completion | CallError:
    """A ``RequestOutput`` asked with ``prompt_logprobs`` as token scores: the logprob of each prompt token from
    ``first`` on (``prompt_logprobs[i]`` maps token ids to ``Logprob``s at position i; the first entry is None)."""
    entries = getattr(output, "prompt_logprobs", None)
    if not entries or len(entries) != len(tokens):
        return CallError("backend_error", "vLLM returned no log-probabilities for the prompt's tokens")
    values = []
    for position in range(first, len(tokens)):
        found = (entries[position] or {}).get(tokens[position])
        if found is None:
            return CallError("backend_error", f"vLLM returned no log-probability for prompt token {position}")
        values.append(float(found.logprob))
    return Completion(text="", prompt_tokens=len(tokens), logprobs=tuple(values))


def is_context_length_error(error: BaseException) -> bool:
    message = str(error).lower()
    return any(marker in message for marker in CONTEXT_LENGTH_MARKERS)


def import_vllm(name: str) -> ModuleType:
    """Import a vLLM module, or fail the whole step with the install hint."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise CallError("backend_unavailable", f"vLLM is not installed ({error}); {INSTALL_HINT}", fatal=True) from None


class VLLMBackend:
    """One model on this machine's GPUs. ``max_parallel`` is 1: the engine is not thread-safe, and a batch
    already keeps it busy."""

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        dtype: str = "auto",
        seed: int = 0,
        engine_options: Mapping[str, Any] | None = None,
        engine: Any | None = None,
        sampling_module: Any | None = None,
    ) -> None:
        """``engine_options`` go to ``vllm.LLM`` as well (``enforce_eager``, ``quantization``, ...); ``engine`` is an
        already built ``vllm.LLM`` (or a test's stand-in) to use instead of building one."""
        self.model = model
        self.engine_arguments: dict[str, Any] = {
            "model": model,
            "tensor_parallel_size": tensor_parallel_size,
            "gpu_memory_utilization": gpu_memory_utilization,
            "max_model_len": max_model_len,
            "dtype": dtype,
            "seed": seed,
            **(engine_options or {}),
        }
        self._engine = engine
        self._sampling_module = sampling_module
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"vllm:{self.model}"

    @property
    def max_parallel(self) -> int:
        return 1

    def engine(self) -> Any:
        """The ``vllm.LLM``, built on first use (loading the model takes a while and the whole GPU)."""
        if self._engine is None:
            vllm = import_vllm("vllm")
            try:
                self._engine = vllm.LLM(**self.engine_arguments)
            except Exception as error:
                raise CallError(
                    "backend_unavailable", f"vLLM could not load {self.model!r}: {error}", fatal=True
                ) from None
        return self._engine

    def sampling_module(self) -> Any:
        """Where ``SamplingParams`` and the structured-output class live (``vllm.sampling_params``)."""
        if self._sampling_module is None:
            self._sampling_module = import_vllm("vllm.sampling_params")
        return self._sampling_module

    def sampling_params(self, request: Request) -> Any:
        module = self.sampling_module()
        kwargs = {**sampling_kwargs(request), **structured_kwargs(request.json_schema, module)}
        try:
            return module.SamplingParams(**kwargs)
        except (ValueError, TypeError) as error:
            raise CallError("bad_request", f"vLLM refused the sampling parameters: {error}") from None

    def complete(self, request: Request) -> Completion:
        return _only(self.complete_batch([request]))

    def complete_batch(self, requests: Sequence[Request]) -> list[Completion | CallError]:
        if not requests:
            return []
        with self._lock:
            try:
                engine = self.engine()
                params = {i: self._params_or_error(request) for i, request in enumerate(requests)}
            except CallError as error:
                return [error] * len(requests)
            outcomes: dict[int, Completion | CallError] = {i: p for i, p in params.items() if isinstance(p, CallError)}
            runnable = [i for i in range(len(requests)) if i not in outcomes]
            if runnable:

                def chat(indices: list[int]) -> Any:
                    conversations = chat_messages([requests[i] for i in indices])
                    return engine.chat(conversations, [params[i] for i in indices], use_tqdm=False)

                outcomes.update(_halving(chat, lambda _i, output: to_completion(output), runnable))
        return [outcomes[i] for i in range(len(requests))]

    def score(self, request: ScoreRequest) -> Completion:
        return _only(self.score_batch([request]))

    def score_batch(self, requests: Sequence[ScoreRequest]) -> list[Completion | CallError]:
        if not requests:
            return []
        with self._lock:
            try:
                engine = self.engine()
                params = self.sampling_module().SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
            except CallError as error:
                return [error] * len(requests)
            spans = token_spans(engine.get_tokenizer(), requests)

            def generate(indices: list[int]) -> Any:
                prompts = [{"prompt_token_ids": spans[i][0]} for i in indices]
                return engine.generate(prompts, params, use_tqdm=False)

            outcomes = _halving(generate, lambda i, output: to_scores(output, *spans[i]), list(range(len(requests))))
        return [outcomes[i] for i in range(len(requests))]

    def _params_or_error(self, request: Request) -> Any:
        """A request's ``SamplingParams``, or its own ``bad_request``; a fatal error is raised for the batch."""
        try:
            return self.sampling_params(request)
        except CallError as error:
            if error.fatal:
                raise
            return error


def _only(outcomes: list[Completion | CallError]) -> Completion:
    """The outcome of a batch of one, raised when it is an error."""
    (outcome,) = outcomes
    if isinstance(outcome, CallError):
        raise outcome
    return outcome


def _halving(
    submit: Callable[[list[int]], Any], convert: Callable[[int, Any], Completion | CallError], indices: list[int]
) -> dict[int, Completion | CallError]:
    """One engine call (``submit``) for ``indices``, each output converted; a batch refused as invalid is halved
    until the culprit is alone."""
    try:
        outputs = submit(indices)
    except Exception as error:
        if len(indices) > 1 and (isinstance(error, ValueError) or is_context_length_error(error)):
            half = len(indices) // 2
            return {**_halving(submit, convert, indices[:half]), **_halving(submit, convert, indices[half:])}
        return dict.fromkeys(indices, _batch_error(error, alone=len(indices) == 1))
    return _match_outputs(indices, list(outputs), convert)


def _batch_error(error: Exception, *, alone: bool) -> CallError:
    """A request refused on its own is a bad request; anything else is the engine's failure."""
    if is_context_length_error(error):
        return CallError("bad_request", f"prompt too long for the model's context: {error}")
    if alone and isinstance(error, ValueError):
        return CallError("bad_request", f"vLLM refused the request: {error}")
    return CallError("backend_error", f"vLLM failed on the batch: {type(error).__name__}: {error}")


def _match_outputs(
    indices: list[int], outputs: list[Any], convert: Callable[[int, Any], Completion | CallError]
) -> dict[int, Completion | CallError]:
    """Pair outputs with requests, in order.

    vLLM before the fix that aborts a half-added batch leaves the requests added before a refused one in the
    engine, and the next ``chat`` call returns them first (outputs are sorted by request id): extra leading
    outputs are those leftovers and are dropped.
    """
    if len(outputs) < len(indices):
        error = CallError("backend_error", f"vLLM returned {len(outputs)} outputs for {len(indices)} requests")
        return dict.fromkeys(indices, error)
    outputs = outputs[len(outputs) - len(indices) :]
    return {i: convert(i, output) for i, output in zip(indices, outputs, strict=True)}
