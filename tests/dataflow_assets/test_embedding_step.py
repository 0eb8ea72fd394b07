"""An embedding pipeline through Dagster with the real shipped model: vectors land in Delta as a list of float32,
the materialization names the model and counts its calls, and rematerializing unchanged data makes no model call.
Also the progress a step reports while it embeds, in the run log."""

import json

import dagster as dg
import polars as pl
import pytest

from dataflow_assets.runner import materialize_pipeline
from operators import EmbeddingEvaluator, FileSource, Pipeline, SemanticSimilarityEvaluator
from resources.delta_store import DeltaStore
from resources.embedder.resource import EmbedderResource

PAIRS = [
    {"question": "What causes the tides?", "answer": "The moon's gravity pulls the oceans."},
    {"question": "How does bread rise?", "answer": "Quarterly steel revenue fell by four percent."},
    {"question": "Why is the sky blue?", "answer": "Air scatters blue sunlight more than red sunlight."},
]


class EmbedAndScore(Pipeline):
    group = "embed_demo"

    def __init__(self, folder) -> None:
        super().__init__()
        self.raw = FileSource(path=str(folder), columns={"question": "string", "answer": "string"})
        self.embed = EmbeddingEvaluator()
        self.relevance = SemanticSimilarityEvaluator()

    def forward(self):
        embedded = self.embed(self.raw(), input_key="question", output_key="question_vector")
        return self.relevance(embedded, input_key="question", input_other_key="answer", output_key="relevance")


@pytest.fixture
def pairs(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    (folder / "pairs.jsonl").write_text("".join(json.dumps(pair) + "\n" for pair in PAIRS))
    return folder


def embedder_metadata(instance, step: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(["embed_demo", step]))
    metadata = event.asset_materialization.metadata
    prefix = "dataflow/embedder/"
    return {k.removeprefix(prefix): getattr(v, "value", v) for k, v in metadata.items() if k.startswith(prefix)}


def test_vectors_land_in_delta_and_the_cache_spares_the_model_on_rematerialization(pairs, tmp_path, instance):
    root = tmp_path / "delta"
    resources = {"embedder": EmbedderResource(cache_path=str(tmp_path / "vectors.sqlite"))}
    materialize_pipeline(EmbedAndScore(pairs), root=root, instance=instance, resources=resources)

    embedded = pl.read_delta(DeltaStore(root).uri(["embed_demo", "embed"]))
    assert embedded.schema["question_vector"] == pl.List(pl.Float32)
    assert embedded["question_vector"].list.len().to_list() == [384] * len(PAIRS)
    scored = pl.read_delta(DeltaStore(root).uri(["embed_demo", "relevance"])).sort("question")
    relevance = dict(zip(scored["question"], scored["relevance"], strict=True))
    assert relevance["What causes the tides?"] > 0.3 > relevance["How does bread rise?"]

    embed, score = embedder_metadata(instance, "embed"), embedder_metadata(instance, "relevance")
    assert embed["identity"].startswith("sentence-transformers:all-MiniLM-L6-v2@")
    assert (embed["calls"], embed["texts"], embed["cache_hits"]) == (1, 3, 0)
    assert (score["texts"], score["cache_hits"]) == (3, 3)  # the questions were embedded by the step before

    materialize_pipeline(EmbedAndScore(pairs), root=root, instance=instance, resources=resources)
    again = embedder_metadata(instance, "relevance")
    assert (again["calls"], again["texts"], again["cache_hits"]) == (0, 0, 6)
    assert embedder_metadata(instance, "embed")["calls"] == 0


def test_the_step_logs_its_embedding_progress(pairs, tmp_path, instance):
    resources = {"embedder": EmbedderResource(cache_path=str(tmp_path / "vectors.sqlite"))}
    summary = materialize_pipeline(
        EmbedAndScore(pairs), root=tmp_path / "delta", instance=instance, resources=resources
    )
    logged = [e.user_message for run in summary.run_ids for e in instance.all_logs(run)]
    progress = [line for line in logged if ": embedder sentence-transformers:all-MiniLM-L6-v2@" in line]
    assert any(line.startswith("embed_demo/embed: ") and "3/3 rows" in line for line in progress), progress
