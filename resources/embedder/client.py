"""The embedder client: implements the operators' ``Embedder`` protocol on top of any embedding backend.

Per ``embed`` call: texts whose vectors are in the cache cost nothing (not even loading the model); each distinct
remaining text is embedded once, longest first in batches of ``batch_size`` (so a batch pads to similar lengths,
as sentence-transformers orders its own batches), concurrently up to the cap where the backend allows it. Every
batch is retried with backoff on retryable errors (the LLM client's policy and rate limiter), written to the cache
as soon as it is done, and counted in the progress tracker. A fatal error (bad key, unknown model, nothing
listening) or a batch that still fails after its retries stops the call: the protocol returns one vector per text,
so there is no partial answer, but a rerun resumes from the cached batches.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import numpy as np

from operators.engines import CounterUsage
from operators.errors import DataflowError
from operators.progress import track
from resources.embedder.backends import Batch, EmbeddingBackend
from resources.embedder.cache import VectorCache, vector_key
from resources.embedder.errors import EmbedderCallError, EmbedderConfigurationError
from resources.llm.backend import CallError
from resources.llm.client import RetryPolicy
from resources.llm.limits import RateLimiter

USAGE_COUNTERS = ("calls", "texts", "cache_hits", "tokens", "retries", "seconds")
"""``calls``: backend calls (one per batch attempt); ``texts``: texts the model embedded; ``cache_hits``: texts
answered from the cache; ``tokens``: input tokens a server counted; ``seconds``: time spent in ``embed``."""


class EmbedderClient:
    def __init__(
        self,
        backend: EmbeddingBackend,
        *,
        cache: VectorCache | None = None,
        batch_size: int = 64,
        max_concurrency: int = 4,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        normalize: bool = True,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.batch_size = batch_size
        self.max_concurrency = max(1, min(max_concurrency, backend.max_parallel))
        self.limiter = limiter or RateLimiter()
        self.retry = retry or RetryPolicy()
        self.normalize = normalize
        self._counts: Counter[str] = Counter(dict.fromkeys(USAGE_COUNTERS, 0))
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self.backend.identity

    @property
    def dimensions(self) -> int:
        """The vector length; a backend that learns it from an answer (HTTP) embeds one short text (cached)."""
        known = self.backend.dimensions
        return known if known is not None else int(self.embed(["dimensions"]).shape[1])

    def usage(self) -> CounterUsage:
        with self._lock:
            return CounterUsage(dict(self._counts))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dimensions)`` float32, in order; L2-normalised unless the client was built with
        ``normalize=False``."""
        started = time.perf_counter()
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise DataflowError(
                    f"embedder: text {row} is {type(text).__name__}, not a string",
                    hint="drop or fill null texts before embedding them",
                )
        keys = [vector_key(self.identity, text) for text in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys))) if self.cache is not None else {}
        rows_per_key = Counter(keys)
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        tracker = track(f"embedder {self.identity}", len(texts))
        tracker.advance(sum(rows_per_key[key] for key in found))
        with self._lock:
            self._counts["cache_hits"] += sum(rows_per_key[key] for key in found)
        try:
            for batch_keys, batch in self._embed_missing(missing):
                vectors = dict(zip(batch_keys, batch.vectors, strict=True))
                found.update(vectors)
                if self.cache is not None:
                    self.cache.put_many(vectors)
                tracker.advance(sum(rows_per_key[key] for key in batch_keys))
            if not texts:
                return np.empty((0, self.dimensions), dtype=np.float32)
            matrix = np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
            return _unit_rows(matrix) if self.normalize else matrix
        finally:
            with self._lock:
                self._counts["seconds"] += time.perf_counter() - started

    def _embed_missing(self, missing: dict[str, str]) -> Iterator[tuple[list[str], Batch]]:
        """Each batch of missing texts, as it is done: its keys and its vectors."""
        ordered = sorted(missing, key=lambda key: len(missing[key]), reverse=True)
        batches = [ordered[start : start + self.batch_size] for start in range(0, len(ordered), self.batch_size)]
        stop = threading.Event()  # set on failure: backoff sleeps end, no new attempt starts
        if self.max_concurrency == 1:
            for keys in batches:
                yield keys, self._embed_with_retries([missing[key] for key in keys], stop)
            return
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="embedder") as pool:
            futures: dict[Future[Batch], list[str]] = {
                pool.submit(self._embed_with_retries, [missing[key] for key in keys], stop): keys for keys in batches
            }
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    # A batch that failed first, before the batches it cancelled.
                    for future in sorted(done, key=lambda f: isinstance(f.exception(), _Cancelled)):
                        yield futures[future], future.result()
            except BaseException:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _embed_with_retries(self, texts: list[str], stop: threading.Event) -> Batch:
        attempt = 0
        while True:
            if stop.is_set():
                raise _Cancelled(f"{self.identity}: cancelled after another batch failed")
            self.limiter.acquire()
            with self._lock:
                self._counts["calls"] += 1
            try:
                batch = self.backend.embed_batch(texts)
            except CallError as error:
                if error.fatal:
                    stop.set()
                    raise EmbedderConfigurationError(f"{self.identity}: {error.message}") from None
                if error.retryable and attempt < self.retry.max_retries and not stop.is_set():
                    stop.wait(self.retry.delay(attempt, error.retry_after))
                    attempt += 1
                    with self._lock:
                        self._counts["retries"] += 1
                    continue
                stop.set()
                raise EmbedderCallError(
                    f"{self.identity}: a batch of {len(texts)} text(s) failed after {attempt + 1} attempt(s): "
                    f"{error.kind}: {error.message}",
                    hint="the batches embedded before it are cached: running the step again resumes from them",
                ) from None
            self.limiter.spend_tokens(batch.tokens)
            with self._lock:
                self._counts["texts"] += len(texts)
                self._counts["tokens"] += batch.tokens
            return batch


class _Cancelled(EmbedderCallError):
    """A batch not tried because another one failed."""


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (a zero row stays zero: it has no direction)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1).astype(np.float32)
