"""Any OpenAI-compatible ``/v1/embeddings`` endpoint through the ``openai`` client: OpenAI, vLLM's and SGLang's
servers, llama.cpp's server, Ollama, Text Embeddings Inference, LiteLLM proxies.

Vectors are asked for as JSON floats (``encoding_format="float"``): the ``openai`` client asks for base64 by
default, which some compatible servers do not implement. Failures are classified as for chat completions
(``resources.llm.backends.openai_backend.classify_error``); an answer with the wrong number of vectors, or vectors
of different lengths, is a ``bad_response`` (retried). The ``openai`` client's own retries are off: the embedder
client retries with its own policy and counts every attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import openai
from openai.types import CreateEmbeddingResponse

from resources.embedder.backends import Batch
from resources.llm.backend import CallError
from resources.llm.backends.openai_backend import classify_error, scrub


class OpenAIEmbeddingBackend:
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_parallel: int = 4,
    ) -> None:
        self.model = model
        self.base_url = base_url or "https://api.openai.com/v1"
        self._max_parallel = max_parallel
        self._secret = api_key or ""
        self._dimensions: int | None = None
        # A server that needs no key still gets a placeholder: the client requires one.
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    @property
    def identity(self) -> str:
        return f"openai:{self.model}@{_without_credentials(self.base_url)}"

    @property
    def dimensions(self) -> int | None:
        return self._dimensions

    @property
    def max_parallel(self) -> int:
        return self._max_parallel

    def embed_batch(self, texts: Sequence[str]) -> Batch:
        try:
            response = self._client.embeddings.create(model=self.model, input=list(texts), encoding_format="float")
        except openai.APIError as error:
            raise classify_error(error, base_url=self.base_url, model=self.model, secret=self._secret) from None
        except ValueError as error:  # a 200 whose body is not JSON
            raise CallError(
                "bad_response", scrub(f"the reply is not JSON: {error}", self._secret), retryable=True
            ) from None
        if not isinstance(response, CreateEmbeddingResponse):
            raise CallError("bad_response", "the reply is not an embeddings list", retryable=True)
        return Batch(self._vectors(response, len(texts)), response.usage.prompt_tokens if response.usage else 0)

    def _vectors(self, response: CreateEmbeddingResponse, expected: int) -> np.ndarray:
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != expected or [item.index for item in data] != list(range(expected)):
            indices = f"{len(data)} vectors (indices {[item.index for item in data][:5]}...)"
            raise CallError("bad_response", f"{indices} for {expected} texts", retryable=True)
        lengths = {len(item.embedding) for item in data}
        if len(lengths) != 1 or (self._dimensions is not None and lengths != {self._dimensions}):
            known = f", earlier answers had {self._dimensions}" if self._dimensions is not None else ""
            raise CallError("bad_response", f"vector lengths {sorted(lengths)} in one answer{known}", retryable=True)
        self._dimensions = lengths.pop()
        return np.asarray([item.embedding for item in data], dtype=np.float32)


def _without_credentials(url: str) -> str:
    """The URL without any ``user:password@`` part, for identities and lineage."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
