"""``RetrieverResource``: the ``retriever`` engine, a store of hybrid indexes beside the Delta tables.

An index step gives it a table's passages; it fingerprints them (ids, texts, the embedder's identity, the
settings) and builds the index in ``<index_root>/<fingerprint>/`` unless that folder already holds it, so an
unchanged chunk table costs no embedding when its step is rematerialized and a changed one gets a new index (old
folders are left for ``dataflow`` users to delete; nothing refers to them once the step has moved on). The step
stores the index's location in its one row; query steps take that row as their second input and ``open`` it,
which is how a query finds the index an upstream step built, and why Dagster marks the query steps stale when the
index is rebuilt. Opened indexes are kept in memory for the life of the resource.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field, PrivateAttr

from operators.engines import CounterUsage
from operators.retriever.protocol import IndexInfo
from resources.retriever.hybrid import HybridIndex, IndexSettings, identity_of


class RetrieverResource(dg.ConfigurableResource):
    index_root: str = Field("data/delta/_indexes", description="Folder holding the built indexes")
    mode: Literal["hybrid", "bm25", "dense"] = Field("hybrid", description="Rankings searched: fused, or one alone")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (Cormack et al. 2009)")
    candidates: int = Field(100, ge=1, description="Depth of each ranking read before fusion")
    exact_max: int = Field(50_000, ge=1, description="Largest index searched exactly; faiss HNSW above")

    _open: dict[str, HybridIndex] = PrivateAttr(default_factory=dict)
    _counts: dict[str, float] = PrivateAttr(
        default_factory=lambda: dict.fromkeys(
            ("builds", "reused", "passages_embedded", "queries", "build_s", "search_s"), 0.0
        )
    )

    @classmethod
    def from_env(cls, data_root: Path) -> RetrieverResource:
        """Indexes go in ``<Delta root>/_indexes``, beside the tables they are built from."""
        return cls(index_root=str(Path(data_root) / "_indexes"))

    @property
    def settings(self) -> IndexSettings:
        return IndexSettings(rrf_k=self.rrf_k, candidates=self.candidates, exact_max=self.exact_max)

    @property
    def identity(self) -> str:
        return f"hybrid-index:{self.mode} in {Path(self.index_root).absolute()}"

    def fingerprint(self, ids: Sequence[str], texts: Sequence[str], embedder: Any) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{identity_of(embedder)}|{sorted(self.settings.manifest().items())}".encode())
        for row_id, text in zip(ids, texts, strict=True):
            digest.update(f"\x00{row_id}\x01{text}".encode())
        return digest.hexdigest()

    def build(self, ids: Sequence[str], texts: Sequence[str], *, embedder: Any) -> IndexInfo:
        fingerprint = self.fingerprint(ids, texts, embedder)
        location = Path(self.index_root).absolute() / fingerprint
        reused = (location / "manifest.json").exists()
        if not reused:
            started = time.perf_counter()
            location.parent.mkdir(parents=True, exist_ok=True)
            HybridIndex.build(location, ids, texts, embedder, self.settings)
            self._counts["builds"] += 1
            self._counts["passages_embedded"] += len(ids)
            self._counts["build_s"] += time.perf_counter() - started
        else:
            self._counts["reused"] += 1
        return IndexInfo(str(location), fingerprint, len(ids), identity_of(embedder), reused)

    def open(self, location: str, *, embedder: Any) -> _CountingRetriever:
        key = f"{location}|{identity_of(embedder)}"
        if key not in self._open:
            self._open[key] = HybridIndex.load(Path(location), embedder, self.settings, self.mode)
        return _CountingRetriever(self._open[key], self._counts)

    def usage(self) -> CounterUsage:
        return CounterUsage(dict(self._counts))


class _CountingRetriever:
    """An opened index that adds its queries and search time to the resource's usage."""

    def __init__(self, index: HybridIndex, counts: dict[str, float]) -> None:
        self.index, self.counts = index, counts

    @property
    def identity(self) -> str:
        return self.index.identity

    def search(self, queries: Sequence[str], k: int = 10):
        started = time.perf_counter()
        hits = self.index.search(queries, k)
        self.counts["queries"] += len(queries)
        self.counts["search_s"] += time.perf_counter() - started
        return hits
