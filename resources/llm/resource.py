"""``LLMResource``: the configurable Dagster resource every LLM step uses.

The backend is chosen by configuration — ``local`` (the embedded llama.cpp model, the default: no GPU, no key),
``openai`` (any OpenAI-compatible endpoint) or ``vllm`` (in-process, GPU machines) — and the resource itself
implements the operators' ``LLM`` protocol, so a step calls ``generate`` or ``score_tokens`` on it directly. It
also works outside Dagster: ``LLMResource(backend="openai", ...).generate([...])``. The API key is read from the
environment variable named by ``api_key_env`` when the client is built, so it never appears in configuration,
run metadata or the cache key; a missing key is reported then, naming the variable, where the endpoint is known
to need one (see ``backends/openai_backend.py``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field, PrivateAttr

from operators.llm.protocol import LLMResult, Prompt, TokenScores
from resources.client_resource import ClientResource
from resources.llm.backend import Backend
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMClient, LLMUsage, RetryPolicy
from resources.llm.limits import RateLimiter


class LLMResource(ClientResource[LLMClient], dg.ConfigurableResource):
    backend: Literal["local", "openai", "vllm"] = Field("local", description="Which engine serves the model")
    model: str = Field(
        "", description="Model name (openai, vllm) or GGUF path (local; default: the bundled SmolLM2-135M)"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key")
    structured_output: Literal["json_schema", "json_object", "none"] = Field(
        "json_schema", description="How the openai backend asks for JSON (llama.cpp's server wants json_object)"
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds before a call times out")
    max_concurrency: int = Field(8, ge=1, description="Calls in flight at once")
    requests_per_minute: float | None = Field(None, gt=0, description="Request rate limit")
    tokens_per_minute: float | None = Field(None, gt=0, description="Token rate limit")
    max_retries: int = Field(5, ge=0, description="Retries of a call on 429, 5xx, timeouts, dropped connections")
    retry_base_delay_s: float = Field(1.0, ge=0, description="First backoff delay; doubles per retry, with jitter")
    retry_budget: int = Field(
        10, ge=0, description="Retries in hand per step; each answer earns one back (429s are not counted)"
    )
    json_reasks: int = Field(2, ge=0, description="Re-asks of an answer that does not match the JSON schema")
    max_error_rate: float = Field(
        0.2, ge=0, le=1, description="A step fails as soon as more of its rows have failed than this share"
    )
    min_rows_for_error_rate: int = Field(
        10, ge=1, description="A step with fewer rows never fails for its error rate (failed rows are still recorded)"
    )
    circuit_breaker: int = Field(
        5, ge=1, description="Connection failures in a row (no reply in between) that stop the step: the server died"
    )
    batch_rows: int = Field(1024, ge=1, description="Rows per batch of the vllm backend (answers cached per batch)")
    cache_enabled: bool = Field(True, description="Reuse answers to identical calls across runs")
    cache_path: str = Field("data/llm_cache.sqlite", description="SQLite file of the answer cache")
    n_threads: int = Field(1, ge=1, description="llama.cpp threads (local backend)")
    n_ctx: int = Field(2048, ge=256, description="llama.cpp context length (local backend)")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="vLLM's share of GPU memory")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs vLLM shards the model over")

    _client: LLMClient | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, data_root: Path) -> LLMResource:
        """The shipped definitions' LLM: ``DATAFLOW_LLM_BACKEND`` (local | openai | vllm, default local: the
        embedded SmolLM2 model), ``DATAFLOW_LLM_MODEL``, ``DATAFLOW_LLM_BASE_URL`` and ``DATAFLOW_LLM_API_KEY_ENV``
        (the name of the variable holding the key, default ``OPENAI_API_KEY``); the answer cache sits beside the
        Delta root. Every other option can be set per run in the Dagster UI's launchpad."""
        env = os.environ
        return cls(
            backend=env.get("DATAFLOW_LLM_BACKEND", "local"),
            model=env.get("DATAFLOW_LLM_MODEL", ""),
            base_url=env.get("DATAFLOW_LLM_BASE_URL") or None,
            api_key_env=env.get("DATAFLOW_LLM_API_KEY_ENV", "OPENAI_API_KEY"),
            cache_path=str(Path(data_root).parent / "llm_cache.sqlite"),
        )

    def build_client(self) -> LLMClient:
        return LLMClient(
            self._backend(),
            cache=ResponseCache(self.cache_path) if self.cache_enabled else None,
            max_concurrency=self.max_concurrency,
            limiter=RateLimiter(self.requests_per_minute, self.tokens_per_minute),
            retry=RetryPolicy(
                max_retries=self.max_retries, base_delay_s=self.retry_base_delay_s, budget=self.retry_budget
            ),
            json_reasks=self.json_reasks,
            max_error_rate=self.max_error_rate,
            min_rows_for_error_rate=self.min_rows_for_error_rate,
            circuit_breaker=self.circuit_breaker,
            batch_rows=self.batch_rows,
        )

    def _backend(self) -> Backend:
        if self.backend == "openai":
            from resources.llm.backends.openai_backend import OpenAIBackend

            return OpenAIBackend(
                model=self.model,
                base_url=self.base_url,
                api_key=os.environ.get(self.api_key_env),
                api_key_env=self.api_key_env,
                timeout_s=self.timeout_s,
                structured_output=self.structured_output,
                max_parallel=self.max_concurrency,
            )
        if self.backend == "vllm":
            from resources.llm.backends.vllm_backend import VLLMBackend

            return VLLMBackend(
                model=self.model,
                tensor_parallel_size=self.tensor_parallel_size,
                gpu_memory_utilization=self.gpu_memory_utilization,
            )
        from resources.llm.backends.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(model_path=self.model or None, n_ctx=self.n_ctx, n_threads=self.n_threads)

    @property
    def model_id(self) -> str:
        return self.client.model_id

    @property
    def identity(self) -> str:
        return self.model_id

    def generate(self, prompts: Sequence[Prompt], **options: Any) -> list[LLMResult]:
        return self.client.generate(prompts, **options)

    def score_tokens(self, texts: Sequence[str], *, contexts: Sequence[str | None] | None = None) -> list[TokenScores]:
        return self.client.score_tokens(texts, contexts=contexts)

    def usage(self) -> LLMUsage:
        return self.client.usage()
