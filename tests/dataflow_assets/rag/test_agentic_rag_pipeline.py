"""The agentic_rag group through Dagster on the bundled documents (scripted LLM, hashing embedder, a real hybrid
index): atomic, deeper and wider questions come out naming their chunks; the index is an asset beside the tables,
reused when the chunks are unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dataflow_assets.knowledge.samples import SAMPLE_DOCUMENTS
from dataflow_assets.rag.agentic_rag import AgenticRagPipeline
from dataflow_assets.runner import materialize_pipeline
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource
from resources.retriever.resource import RetrieverResource
from tests.rag_support import DocumentModel, HashingEmbedder, real_embedder


@pytest.mark.slow
def test_agentic_rag_materializes_checked_questions_over_an_index_asset(tmp_path: Path, instance) -> None:
    root = tmp_path / "delta"
    embedder = HashingEmbedder()
    resources = {
        "llm": DocumentModel(),
        "embedder": embedder,
        "retriever": RetrieverResource(index_root=str(root / "_indexes")),
    }
    summary = materialize_pipeline(AgenticRagPipeline(), root=root, instance=instance, resources=resources)

    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert all(summary.checks.values())
    store = DeltaStore(root)
    index = pl.read_delta(store.uri(["agentic_rag", "index"]))
    assert index.height == 1 and Path(index["index"][0]).parent == root / "_indexes"
    assert index["index_passages"][0] == steps["chunks"].rows_out and not index["index_reused"][0]
    questions = pl.read_delta(store.uri(["agentic_rag", "questions"]))
    chunk_ids = set(pl.read_delta(store.uri(["agentic_rag", "chunks"]))["_row_id"])
    assert questions.height > 0 and all(ids and set(ids) <= chunk_ids for ids in questions["chunk_ids"].to_list())
    assert questions.filter(pl.col("depth") >= 1).height > 0, "no deeper question survived"
    assert questions.filter(pl.col("answers").is_not_null()).height > 0, "no wider question survived"
    atomic = questions.filter(pl.col("depth").is_null() & pl.col("answers").is_null())
    assert atomic.height > 0 and atomic["closed_book_answer"].unique().to_list() == ["unknown"]
    assert steps["screened"].removed_by_reason or steps["tasks"].rows_out == steps["screened"].rows_out

    materialize_pipeline(AgenticRagPipeline(), root=root, instance=instance, resources=resources)
    again = pl.read_delta(store.uri(["agentic_rag", "index"]))
    assert again["index_reused"][0] and again["index"][0] == index["index"][0]
    event = instance.get_latest_materialization_event(dg.AssetKey(["agentic_rag", "index"]))
    metadata = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
    assert (metadata["dataflow/retriever/builds"], metadata["dataflow/retriever/reused"]) == (0, 1)
    assert metadata["dataflow/retriever/passages_embedded"] == 0


@pytest.mark.llm
@pytest.mark.slow
def test_agentic_rag_end_to_end_with_the_embedded_model(tmp_path: Path, instance) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    for name in ("footbridge.md", "harbour.txt"):
        shutil.copy(SAMPLE_DOCUMENTS / name, folder)
    root = tmp_path / "delta"
    resources = {
        "llm": LLMResource(backend="local", cache_path=str(tmp_path / "llm.sqlite")),
        "embedder": real_embedder(tmp_path),
        "retriever": RetrieverResource(index_root=str(root / "_indexes")),
    }
    summary = materialize_pipeline(
        AgenticRagPipeline(folder, depth_rounds=1), root=root, instance=instance, resources=resources
    )

    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    index = pl.read_delta(DeltaStore(root).uri(["agentic_rag", "index"]))
    assert index["index_embedder"][0].startswith("sentence-transformers:all-MiniLM-L6-v2")
    for name in ("screened", "dependent"):  # every row kept or rejected with a reason, none lost
        assert steps[name].rows_in == steps[name].rows_out + sum(steps[name].removed_by_reason.values())
    retrievable = steps["retrievable"]  # its rows in also count the index row of its second input
    assert steps["dependent"].rows_out == retrievable.rows_out + sum(retrievable.removed_by_reason.values())
    assert "agentic_rag/questions" in {s.asset for s in summary.steps}
