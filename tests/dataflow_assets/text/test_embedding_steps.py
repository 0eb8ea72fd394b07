"""Embedding steps through Dagster with the project's embedder engine: semantic dedup, a Vendi score over the kept
rows, and the MMD between two branches (a two-input dataset evaluator)."""

import json

import polars as pl
import pytest

from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, Pipeline
from operators.text.evaluate.mmd_distance import MmdDistanceEvaluator
from operators.text.evaluate.vendi_score import VendiScoreEvaluator
from operators.text.filter.semantic_dedup import SemanticDedupFilter
from resources.delta_store import DeltaStore
from resources.embedder.resource import EmbedderResource

pytestmark = pytest.mark.slow

TEXTS = [
    "How do I reset my password?",
    "How can I reset my password?",
    "What is the capital of France?",
    "Best recipe for chocolate cake",
    "How do tides work?",
]


class Diversity(Pipeline):
    group = "diversity_test"

    def __init__(self, folder) -> None:
        super().__init__()
        self.raw = FileSource(path=str(folder), columns={"text": "string"})
        self.unique = SemanticDedupFilter(threshold=0.9, clusters=1)
        self.diversity = VendiScoreEvaluator()
        self.shift = MmdDistanceEvaluator()

    def forward(self):
        raw = self.raw()
        unique = self.unique(raw)
        self.diversity(unique)
        return self.shift(unique, raw)


def test_embedding_steps_materialize_with_the_embedder_engine(tmp_path, instance):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "texts.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    embedder = EmbedderResource(cache_path=str(tmp_path / "vectors.sqlite"))
    materialize_pipeline(
        Diversity(folder), root=tmp_path / "delta", instance=instance, resources={"embedder": embedder}
    )
    store = DeltaStore(tmp_path / "delta")
    rejected = pl.read_delta(store.uri(["diversity_test", "unique"], "rejected"))
    assert rejected.select("text", "_reject_rule").rows() == [("How can I reset my password?", "semantic_duplicate")]
    metrics = pl.read_delta(store.uri(["diversity_test", "diversity"]))
    values = dict(metrics.filter(pl.col("bucket").is_null()).select("metric", "value").iter_rows())
    assert values["rows"] == 4 and 3 < values["vendi_score"] <= 4
    shift = dict(pl.read_delta(store.uri(["diversity_test", "shift"])).select("metric", "value").iter_rows())
    assert shift["rows"] == 4 and shift["reference_rows"] == 5 and abs(shift["mmd2"]) < 0.5
