"""Perplexity as Dagster assets with the embedded model: scored, filtered on the score with the scrambled text
rejected, usage in the metadata, and an unchanged rematerialization served from the cache."""

import json

import dagster as dg
import polars as pl
import pytest

from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, Pipeline
from operators.general.filter.row_filter import RowFilter
from operators.text.evaluate.perplexity import PerplexityEvaluator
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource

pytestmark = pytest.mark.llm

TEXTS = [
    "Water boils at one hundred degrees Celsius at sea level.",
    "The printing press lowered the cost of books.",
    "legs the boils printing sea cost Celsius of at lowered.",
]


class FluentOnly(Pipeline):
    group = "ppl_demo"

    def __init__(self, folder) -> None:
        super().__init__()
        self.raw = FileSource(path=str(folder), columns={"text": "string"})
        self.score = PerplexityEvaluator()
        self.fluent = RowFilter(condition="perplexity < 1000", reason="implausible_text")

    def forward(self):
        return self.fluent(self.score(self.raw()))


@pytest.fixture
def folder(tmp_path):
    shards = tmp_path / "texts"
    shards.mkdir()
    (shards / "texts.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    return shards


def llm_metadata(instance, step: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(["ppl_demo", step]))
    metadata = event.asset_materialization.metadata
    return {k.removeprefix("dataflow/llm/"): getattr(v, "value", v) for k, v in metadata.items() if "/llm/" in k}


def test_perplexity_steps_score_filter_and_reuse_the_cache(folder, tmp_path, instance):
    root = tmp_path / "delta"
    llm = {"llm": LLMResource(backend="local", cache_path=str(tmp_path / "cache.sqlite"))}
    summary = materialize_pipeline(FluentOnly(folder), root=root, instance=instance, resources=llm)

    scored = pl.read_delta(DeltaStore(root).uri(["ppl_demo", "score"])).sort("_source_line")
    perplexities = scored["perplexity"].to_list()
    assert perplexities[2] > 1000 > max(perplexities[:2])
    steps = {s.asset: s for s in summary.steps}
    assert steps["ppl_demo/fluent"].removed_by_reason == {"implausible_text": 1}
    usage = llm_metadata(instance, "score")
    assert usage["identity"] == "llama.cpp:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (usage["calls"], usage["cache_hits"]) == (len(TEXTS), 0) and usage["prompt_tokens"] > 0

    materialize_pipeline(FluentOnly(folder), root=root, instance=instance, resources=llm)
    usage = llm_metadata(instance, "score")
    assert (usage["calls"], usage["cache_hits"]) == (0, len(TEXTS))
    again = pl.read_delta(DeltaStore(root).uri(["ppl_demo", "score"])).sort("_source_line")
    assert again["perplexity"].to_list() == perplexities
