"""A hybrid passage index: BM25 (bm25s) and dense vectors (the embedder's), fused by reciprocal rank.

Lexical and dense retrieval fail on different questions (exact names and numbers against paraphrase), and fusing
their rankings beat either alone here (recall@10 in ``benchmarks/results/retrieval.md``). Reciprocal rank fusion
(Cormack, Clarke and Büttcher, SIGIR 2009) needs no score calibration: a passage scores ``sum 1 / (k + rank)`` over
the lists it appears in, ``k = 60`` as in the paper. BM25 hits with a score of zero (no query word in the passage)
are not hits. Dense search is exact (a matrix product) up to ``exact_max`` passages and a faiss HNSW graph above.

On disk an index is a folder: ``manifest.json`` (ids, settings, the embedder's identity), ``bm25/`` (bm25s's own
files), ``vectors.npy`` and, for large indexes, ``hnsw.faiss``. It is written to a temporary folder and renamed, so
a crash never leaves a half index behind its final name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from operators.errors import DataflowError
from operators.retriever.protocol import Hit

Mode = Literal["hybrid", "bm25", "dense"]
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True)
class IndexSettings:
    rrf_k: int = 60
    candidates: int = 100
    """How deep each list is read before fusion."""
    exact_max: int = 50_000
    """Largest index searched exactly; above it a faiss HNSW graph answers."""
    k1: float = 1.5
    b: float = 0.75

    def manifest(self) -> dict[str, Any]:
        return {"rrf_k": self.rrf_k, "exact_max": self.exact_max, "k1": self.k1, "b": self.b}


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased words of two letters or more, English stop words removed (bm25s's list)."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    return [[t for t in _TOKEN.findall(text.lower()) if t not in stop] for text in texts]


class HybridIndex:
    """Search over one built index; see the module docstring."""

    def __init__(
        self,
        location: Path,
        ids: list[str],
        bm25: Any,
        vectors: np.ndarray,
        graph: Any,
        embedder: Any,
        settings: IndexSettings,
        mode: Mode,
    ) -> None:
        self.location, self.ids, self.bm25, self.vectors, self.graph = location, ids, bm25, vectors, graph
        self.embedder, self.settings, self.mode = embedder, settings, mode

    @property
    def identity(self) -> str:
        return f"hybrid-index:{self.location} ({self.mode}, {len(self.ids)} passages)"

    @classmethod
    def build(
        cls, location: Path, ids: Sequence[str], texts: Sequence[str], embedder: Any, settings: IndexSettings
    ) -> None:
        import bm25s

        if len(ids) != len(texts) or len(set(ids)) != len(ids):
            raise DataflowError("index passages need one unique id per text", hint="index a table of unique _row_ids")
        if not ids:
            raise DataflowError("there are no passages to index", hint="check the steps before the index step")
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=location.parent))
        try:
            bm25 = bm25s.BM25(k1=settings.k1, b=settings.b)
            bm25.index(tokenize(texts), show_progress=False)
            bm25.save(str(tmp / "bm25"))
            vectors = np.asarray(embedder.embed(list(texts)), dtype=np.float32)
            np.save(tmp / "vectors.npy", vectors)
            if len(ids) > settings.exact_max:
                import faiss

                graph = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
                graph.add(vectors)
                faiss.write_index(graph, str(tmp / "hnsw.faiss"))
            manifest = {"ids": list(ids), "embedder": identity_of(embedder), "settings": settings.manifest()}
            (tmp / "manifest.json").write_text(json.dumps(manifest))
            os.replace(tmp, location)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (location / "manifest.json").exists():  # another process may have finished the same index
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, location: Path, embedder: Any, settings: IndexSettings, mode: Mode) -> HybridIndex:
        import bm25s

        manifest_file = location / "manifest.json"
        if not manifest_file.exists():
            raise DataflowError(f"no index at {location}", hint="materialize the step that builds the index first")
        manifest = json.loads(manifest_file.read_text())
        if mode != "bm25" and manifest["embedder"] != identity_of(embedder):
            raise DataflowError(
                f"the index at {location} was built with {manifest['embedder']}, not {identity_of(embedder)}",
                hint="query with the embedder the index was built with, or rebuild the index",
            )
        graph = None
        if (location / "hnsw.faiss").exists():
            import faiss

            graph = faiss.read_index(str(location / "hnsw.faiss"))
        bm25 = bm25s.BM25.load(str(location / "bm25"))
        vectors = np.load(location / "vectors.npy")
        return cls(location, manifest["ids"], bm25, vectors, graph, embedder, settings, mode)

    def search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        if not queries:
            return []
        depth = min(len(self.ids), max(k, self.settings.candidates))
        lexical = self._bm25(queries, depth) if self.mode != "dense" else [[] for _ in queries]
        dense = self._dense(queries, depth) if self.mode != "bm25" else [[] for _ in queries]
        results = []
        for lex, vec in zip(lexical, dense, strict=True):
            # In a single mode the other ranking was not computed and is empty.
            ranked = _fuse([lex, vec], self.settings.rrf_k) if self.mode == "hybrid" else lex + vec
            results.append([Hit(self.ids[i], float(s), rank) for rank, (i, s) in enumerate(ranked[:k])])
        return results

    def _bm25(self, queries: Sequence[str], depth: int) -> list[list[tuple[int, float]]]:
        documents, scores = self.bm25.retrieve(tokenize(queries), k=depth, show_progress=False, n_threads=1)
        return [
            [(int(d), float(s)) for d, s in zip(docs, row, strict=True) if s > 0]
            for docs, row in zip(documents, scores, strict=True)
        ]

    def _dense(self, queries: Sequence[str], depth: int) -> list[list[tuple[int, float]]]:
        query_vectors = np.asarray(self.embedder.embed(list(queries)), dtype=np.float32)
        if self.graph is not None:
            self.graph.hnsw.efSearch = max(64, depth)
            scores, found = self.graph.search(query_vectors, depth)
            return [
                [(int(i), float(s)) for i, s in zip(row, srow, strict=True) if i >= 0]
                for row, srow in zip(found, scores, strict=True)
            ]
        similarity = query_vectors @ self.vectors.T
        top = np.argpartition(-similarity, depth - 1, axis=1)[:, :depth]
        results = []
        for row, candidates in zip(similarity, top, strict=True):
            ordered = candidates[np.argsort(-row[candidates], kind="stable")]
            results.append([(int(i), float(row[i])) for i in ordered])
        return results


def _fuse(rankings: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (index, _) in enumerate(ranking):
            scores[index] = scores.get(index, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def identity_of(embedder: Any) -> str:
    return str(getattr(embedder, "identity", type(embedder).__name__))
