"""The knowledge group through Dagster on the bundled documents (scripted LLM, hashing embedder): every step
materializes, a scanned page is quarantined, and a training row leads back to its file, page and characters."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from dataflow_assets.knowledge.knowledge import KnowledgePipeline
from dataflow_assets.knowledge.pdf_writer import PdfPage, write_pdf
from dataflow_assets.knowledge.samples import SAMPLE_DOCUMENTS
from dataflow_assets.lineage import row_lineage
from dataflow_assets.runner import materialize_pipeline
from operators.sources.documents import DocumentSource
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource
from tests.rag_support import DocumentModel, HashingEmbedder, real_embedder


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    folder = tmp_path / "documents"
    shutil.copytree(SAMPLE_DOCUMENTS, folder)
    write_pdf(folder / "scan.pdf", [PdfPage(["The quay was rebuilt in 1902."]), PdfPage(scanned=True)])
    return folder


@pytest.mark.slow
def test_knowledge_materializes_and_rows_lead_back_to_file_page_and_offsets(documents, tmp_path, instance) -> None:
    root = tmp_path / "delta"
    pipeline = KnowledgePipeline(documents)
    resources = {"llm": DocumentModel(), "embedder": HashingEmbedder()}
    summary = materialize_pipeline(pipeline, root=root, instance=instance, resources=resources)

    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert steps["documents"].rows_out == 7 and steps["documents"].removed_by_reason == {"no_text_layer": 1}
    assert all(steps[name].rows_out > 0 for name in ("chunks", "cleaned", "qa", "multihop", "checked", "sft"))
    assert all(summary.checks.values())
    store = DeltaStore(root)
    sft = pl.read_delta(store.uri(["knowledge", "sft"]))
    assert set(sft.columns) >= {"instruction", "input", "output", "chunk_ids", "_source_file", "start", "end"}

    row = sft.filter(pl.col("_source_file") == "tides.pdf").sort("start").row(-1, named=True)
    hops = row_lineage(pipeline.trace(), store, "sft", row["_row_id"]).path()
    assert [h.asset.split("/")[1] for h in hops][:3] == ["documents", "chunks", "cleaned"]
    assert (hops[0].source_file, hops[0].source_line) == ("tides.pdf", 2)
    chunk = pl.read_delta(store.uri(["knowledge", "chunks"])).filter(pl.col("_row_id") == row["chunk_ids"][0])
    source = DocumentSource(path=str(documents))
    pages = source.read([documents / "tides.pdf"], partition_key=None).rows
    document_text = "\n\n".join(pages.sort("page")["text"])
    assert document_text[chunk["start"][0] : chunk["end"][0]] == chunk["chunk"][0]
    assert row["output"] in document_text[row["start"] : row["end"]]


@pytest.mark.llm
@pytest.mark.slow
def test_knowledge_end_to_end_with_the_embedded_model(tmp_path, instance) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    shutil.copy(SAMPLE_DOCUMENTS / "footbridge.md", folder)
    resources = {
        "llm": LLMResource(backend="local", cache_path=str(tmp_path / "llm.sqlite")),
        "embedder": real_embedder(tmp_path),
    }
    summary = materialize_pipeline(
        KnowledgePipeline(folder), root=tmp_path / "delta", instance=instance, resources=resources
    )

    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert steps["documents"].rows_out == 1 and steps["chunks"].rows_out == 3
    for name in ("cleaned", "checked"):  # every row is kept or rejected with a reason, none lost
        assert steps[name].rows_in == steps[name].rows_out + sum(steps[name].removed_by_reason.values())
    assert steps["qa"].rows_out + sum(steps["qa"].removed_by_reason.values()) > 0
