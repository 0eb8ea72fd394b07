from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import OpResult, assign_generated_ids
from operators.embedder.protocol import Embedder
from operators.knowledge.chunking import (
    Document,
    Span,
    _Chunker,
    chunk_rows,
    documents,
    pack,
    sentences,
    sorted_by_offset,
)
from operators.registry import register


@register("chunk_semantic")
class ChunkSemanticGenerator(_Chunker):
    """Cut documents where the topic shifts: between consecutive sentences whose embeddings are far apart.

    Each sentence is embedded together with its neighbours (``window`` sentences each side, which steadies the
    signal); a cut falls after sentence *i* when the cosine distance between windows *i* and *i+1* is above the
    ``percentile``-th percentile of the document's distances (Kamradt's "semantic chunking", the method of
    LangChain's ``SemanticChunker``). Pieces longer than ``max_words`` are then packed by sentences. The embedder is
    the ``embedder`` engine; chonkie's semantic chunker, which DataFlow uses, downloads its model at run time.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    references = ("G. Kamradt, 5 Levels of Text Splitting (2024)",)
    example = "ChunkSemanticGenerator(percentile=90, max_words=180)"

    percentile: float = Field(90.0, gt=0, lt=100, description="Cut where the distance exceeds this percentile")
    window: int = Field(1, ge=0, description="Neighbouring sentences embedded with each sentence, on each side")
    max_words: int = Field(180, ge=1, description="Most words in a chunk")

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: str) -> OpResult:
        bound = self.bind_keys(keys)
        docs = documents(sorted_by_offset(frames[0]), bound["input_key"])
        units = {doc.key: sentences(doc.text) for doc in docs}
        windows = [self._window(doc, units[doc.key], i) for doc in docs for i in range(len(units[doc.key]))]
        vectors = embedder.embed(windows) if windows else np.zeros((0, 1), dtype=np.float32)
        spans: dict[str, list[Span]] = {}
        offset = 0
        for doc in docs:
            count = len(units[doc.key])
            spans[doc.key] = self._cut(doc, units[doc.key], vectors[offset : offset + count])
            offset += count
        rows = chunk_rows(docs, lambda doc: spans[doc.key], bound["output_key"])
        return OpResult(kept=assign_generated_ids(rows, salt=self.fingerprint(bound)))

    def _window(self, doc: Document, units: list[Span], index: int) -> str:
        first, last = max(0, index - self.window), min(len(units) - 1, index + self.window)
        return doc.text[units[first][0] : units[last][1]]

    def _cut(self, doc: Document, units: list[Span], vectors: Any) -> list[Span]:
        if len(units) < 2:
            return pack(doc.text, units, self.max_words)
        distances = 1.0 - np.sum(vectors[:-1] * vectors[1:], axis=1)
        threshold = np.percentile(distances, self.percentile)
        groups, first = [], 0
        for index, distance in enumerate(distances):
            if distance > threshold:
                groups.append(units[first : index + 1])
                first = index + 1
        groups.append(units[first:])
        return [span for group in groups for span in pack(doc.text, group, self.max_words)]
