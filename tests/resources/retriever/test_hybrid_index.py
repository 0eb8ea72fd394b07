"""The retriever engine: hybrid indexes built once per distinct passage set, stored on disk, searched by BM25,
dense vectors or both fused; the HNSW graph above the exact-search size."""

from __future__ import annotations

from pathlib import Path

import pytest

from operators.errors import DataflowError
from operators.retriever.protocol import IndexStore
from resources.retriever.resource import RetrieverResource
from tests.rag_support import HashingEmbedder

PASSAGES = {
    "c1": "The lighthouse keeper Tobias Rennick served for twenty-six years.",
    "c2": "Granite for the tower came from the Colm Ridge quarry.",
    "c3": "The tidal bore called the Grey Horse runs up the Veskel.",
    "c4": "The fish market opens at five in the morning.",
}


def build(tmp_path: Path, **options) -> tuple[RetrieverResource, str, HashingEmbedder]:
    embedder = HashingEmbedder()
    store = RetrieverResource(index_root=str(tmp_path / "indexes"), **options)
    info = store.build(list(PASSAGES), list(PASSAGES.values()), embedder=embedder)
    return store, info.location, embedder


def test_the_store_implements_the_engine_protocol(tmp_path: Path) -> None:
    assert isinstance(RetrieverResource(index_root=str(tmp_path)), IndexStore)


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_each_mode_finds_the_passage_a_query_is_about(tmp_path: Path, mode: str) -> None:
    store, location, embedder = build(tmp_path, mode=mode)
    hits = store.open(location, embedder=embedder).search(["lighthouse keeper", "granite quarry"], k=2)
    assert [found[0].row_id for found in hits] == ["c1", "c2"]
    assert [h.rank for h in hits[0]] == list(range(len(hits[0])))
    assert all(a.score >= b.score for a, b in zip(hits[0], hits[0][1:], strict=False))


def test_bm25_returns_no_passage_that_shares_no_word_with_the_query(tmp_path: Path) -> None:
    store, location, embedder = build(tmp_path, mode="bm25")
    assert store.open(location, embedder=embedder).search(["zebra"], k=3) == [[]]


def test_identical_passages_reuse_the_index_and_changed_ones_get_a_new_one(tmp_path: Path) -> None:
    store, location, embedder = build(tmp_path)
    again = store.build(list(PASSAGES), list(PASSAGES.values()), embedder=embedder)
    changed = store.build(list(PASSAGES), [*list(PASSAGES.values())[:3], "The market opens at six."], embedder=embedder)

    assert again.reused and again.location == location
    assert not changed.reused and changed.location != location
    assert embedder.texts == 2 * len(PASSAGES)  # the reused index embedded nothing
    usage = store.usage().metadata()
    assert (usage["builds"], usage["reused"], usage["passages_embedded"]) == (2, 1, 8)


def test_an_index_opens_from_disk_in_a_new_process_and_refuses_another_embedder(tmp_path: Path) -> None:
    _, location, embedder = build(tmp_path)
    fresh = RetrieverResource(index_root=str(tmp_path / "indexes"))
    assert fresh.open(location, embedder=HashingEmbedder()).search(["fish market"], k=1)[0][0].row_id == "c4"

    class Other(HashingEmbedder):
        identity = "test:other"

    with pytest.raises(DataflowError, match="built with test:hashing-64"):
        fresh.open(location, embedder=Other())
    with pytest.raises(DataflowError, match="no index"):
        fresh.open(str(tmp_path / "missing"), embedder=embedder)


def test_large_indexes_search_an_hnsw_graph_with_the_same_answers(tmp_path: Path) -> None:
    exact, exact_location, embedder = build(tmp_path / "exact", mode="dense")
    graph, graph_location, _ = build(tmp_path / "graph", mode="dense", exact_max=2)
    assert (Path(graph_location) / "hnsw.faiss").exists() and not (Path(exact_location) / "hnsw.faiss").exists()
    queries = ["lighthouse keeper", "granite tower", "tidal bore", "fish market"]
    exact_top = [found[0].row_id for found in exact.open(exact_location, embedder=embedder).search(queries, 2)]
    graph_top = [found[0].row_id for found in graph.open(graph_location, embedder=embedder).search(queries, 2)]
    assert exact_top == graph_top == ["c1", "c2", "c3", "c4"]


def test_passages_need_unique_ids(tmp_path: Path) -> None:
    store = RetrieverResource(index_root=str(tmp_path))
    with pytest.raises(DataflowError, match="unique"):
        store.build(["a", "a"], ["x", "y"], embedder=HashingEmbedder())
    with pytest.raises(DataflowError, match="no passages"):
        store.build([], [], embedder=HashingEmbedder())
