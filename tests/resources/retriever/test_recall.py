"""Retrieval recall on the sample documents with the real embedder: paraphrased questions, each labelled with the
passage that answers it; hybrid search finds them, and is at least as good as either ranking alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflow_assets.knowledge.samples import SAMPLE_DOCUMENTS
from operators.knowledge.generate.chunk_sentences import ChunkSentencesGenerator
from operators.sources.documents import DocumentSource
from resources.retriever.resource import RetrieverResource
from tests.rag_support import real_embedder

pytestmark = pytest.mark.slow

QUESTIONS = {  # question -> (file, chunk index) of the passage that answers it
    "Which river does the pedestrian bridge cross?": ("footbridge.md", 0),
    "What damaged the eastern support of the bridge in 1931?": ("footbridge.md", 1),
    "How many fishing boats did the town have around 1900?": ("harbour.txt", 0),
    "Where are vessels forbidden to drop anchor?": ("harbour.txt", 1),
    "When was the lamp on the headland first lit?": ("lighthouse.html", 0),
    "Who was the final keeper before automation?": ("lighthouse.html", 1),
    "What fuel did the light burn in 1921?": ("lighthouse.html", 2),
    "In which year did the granite quarry shut down?": ("quarry.docx", 0),
    "How many tonnes of kerbstones were cut?": ("quarry.docx", 1),
    "Who started recording high waters in 1871?": ("tides.pdf", 0),
    "What is the neap range at the quay?": ("tides.pdf", 1),
    "Why do deep ships wait before entering the estuary?": ("tides.pdf", 2),
    "How fast does the bore move upriver?": ("tides.pdf", 3),
}


def recall_at(k: int, mode: str, location: str, embedder, ids: dict) -> float:
    retriever = RetrieverResource(index_root=str(Path(location).parent), mode=mode).open(location, embedder=embedder)
    hits = retriever.search(list(QUESTIONS), k=k)
    return sum(
        ids[gold] in {h.row_id for h in found} for gold, found in zip(QUESTIONS.values(), hits, strict=True)
    ) / len(QUESTIONS)


def test_hybrid_search_finds_the_answering_passage(tmp_path: Path) -> None:
    source = DocumentSource(path=str(SAMPLE_DOCUMENTS))
    chunks = (
        ChunkSentencesGenerator(max_words=60, overlap_sentences=0)
        .run(source.read(source.files(), partition_key=None).rows)
        .kept
    )
    ids = {(row["_source_file"], row["chunk_index"]): row["_row_id"] for row in chunks.iter_rows(named=True)}
    assert set(QUESTIONS.values()) <= set(ids), "the sample documents' chunks changed: relabel the questions"
    embedder = real_embedder(tmp_path)
    store = RetrieverResource(index_root=str(tmp_path / "indexes"))
    location = store.build(chunks["_row_id"].to_list(), chunks["chunk"].to_list(), embedder=embedder).location

    recall = {mode: recall_at(3, mode, location, embedder, ids) for mode in ("bm25", "dense", "hybrid")}
    assert recall["hybrid"] >= 0.9, recall
    assert recall["hybrid"] >= max(recall["bm25"], recall["dense"]) - 1 / len(QUESTIONS), recall
