"""The calls retrieval operators make: an index store (the ``retriever`` engine) that builds hybrid indexes over a
table of chunks, and the retrievers it opens, which return passages for queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: the chunk's ``_row_id``, its score and rank (0 = best) for the query."""

    row_id: str
    score: float
    rank: int


@runtime_checkable
class Retriever(Protocol):
    @property
    def identity(self) -> str:
        """Which index answers (its location and version), for lineage."""
        ...

    def search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """The ``k`` best passages for each query, best first."""
        ...


@dataclass(frozen=True)
class IndexInfo:
    """Where a built index lives and what it holds; an index step stores it as its one row."""

    location: str
    """The index's folder: content-addressed, so unchanged passages find the index already built."""
    fingerprint: str
    """Hash of the passages (ids and texts), the embedder's identity and the index settings."""
    passages: int
    embedder: str
    reused: bool
    """True when an index with the same fingerprint was already on disk (nothing was embedded)."""


@runtime_checkable
class IndexStore(Protocol):
    """The ``retriever`` engine: builds hybrid indexes over passages and opens them for search."""

    @property
    def identity(self) -> str: ...

    def build(self, ids: Sequence[str], texts: Sequence[str], *, embedder: Any) -> IndexInfo:
        """Index the passages (reusing an identical index already built) and say where it is."""
        ...

    def open(self, location: str, *, embedder: Any) -> Retriever:
        """A retriever over the index at ``location``; queries are embedded by ``embedder``, which must be the
        model the index was built with."""
        ...
