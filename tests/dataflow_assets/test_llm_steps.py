"""LLM steps through Dagster with the real embedded model (llama.cpp running SmolLM2-135M): usage metadata,
zero calls on an unchanged rematerialization, only the affected calls after a template change, lineage."""

import json

import dagster as dg
import polars as pl
import pytest

from dataflow_assets.lineage import row_lineage
from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, Pipeline, PromptedEvaluator, PromptedGenerator, PromptTemplate
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource

pytestmark = pytest.mark.llm

TOPICS = ["tides", "bread", "glaciers", "bridges"]


class AskAndRate(Pipeline):
    group = "llm_demo"

    def __init__(self, folder, rate_version: str = "1") -> None:
        super().__init__()
        self.raw = FileSource(path=str(folder), columns={"topic": "string"})
        self.ask = PromptedGenerator(
            prompt=PromptTemplate(name="ask", version="1", template="Write one question about {{ topic }}."),
            max_tokens=16,
        )
        self.rate = PromptedEvaluator(
            prompt=PromptTemplate(
                name="rate",
                version=rate_version,
                template="Rate this question from 1 to 5 and explain briefly: {{ question }}",
            ),
            max_tokens=48,
        )

    def forward(self):
        questions = self.ask(self.raw(), output_key="question")
        return self.rate(questions, score_key="score", rationale_key="rationale")


@pytest.fixture
def topics(tmp_path):
    folder = tmp_path / "topics"
    folder.mkdir()
    (folder / "topics.jsonl").write_text("".join(json.dumps({"topic": t}) + "\n" for t in TOPICS))
    return folder


def llm_metadata(instance, step: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(["llm_demo", step]))
    metadata = event.asset_materialization.metadata
    return {k.removeprefix("dataflow/llm/"): getattr(v, "value", v) for k, v in metadata.items() if "/llm/" in k}


def test_llm_steps_report_usage_and_reuse_the_cache(topics, tmp_path, instance):
    root = tmp_path / "delta"
    llm = {"llm": LLMResource(backend="local", cache_path=str(tmp_path / "cache.sqlite"))}

    summary = materialize_pipeline(AskAndRate(topics), root=root, instance=instance, resources=llm)
    asked = llm_metadata(instance, "ask")
    assert asked["identity"] == "llama.cpp:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert asked["calls"] == len(TOPICS) and asked["cache_hits"] == 0
    assert asked["completion_tokens"] > 0 and asked["latency_p50_s"] > 0 and asked["tokens_per_s"] > 0
    steps = {s.asset: s for s in summary.steps}
    for step in ("llm_demo/ask", "llm_demo/rate"):
        rejected = sum(steps[step].removed_by_reason.values())
        assert steps[step].rows_in == steps[step].rows_out + rejected
        assert all(reason.startswith("llm_") for reason in steps[step].removed_by_reason)

    materialize_pipeline(AskAndRate(topics), root=root, instance=instance, resources=llm)
    assert (llm_metadata(instance, "ask")["calls"], llm_metadata(instance, "rate")["calls"]) == (0, 0)
    assert llm_metadata(instance, "ask")["cache_hits"] == len(TOPICS)

    materialize_pipeline(AskAndRate(topics, rate_version="2"), root=root, instance=instance, resources=llm)
    assert llm_metadata(instance, "ask")["calls"] == 0
    assert llm_metadata(instance, "rate")["calls"] >= steps["llm_demo/ask"].rows_out


def test_lineage_of_an_llm_row_names_model_and_prompt(topics, tmp_path, instance):
    root = tmp_path / "delta"
    llm = {"llm": LLMResource(backend="local", cache_path=str(tmp_path / "cache.sqlite"))}
    pipeline = AskAndRate(topics)
    materialize_pipeline(pipeline, root=root, instance=instance, resources=llm)
    store = DeltaStore(root)
    asked = pl.read_delta(store.uri(["llm_demo", "ask"])).row(0, named=True)

    hop = row_lineage(pipeline.trace(), store, "ask", asked["_row_id"])
    assert hop.engines == {"llm": "llama.cpp:SmolLM2-135M-Instruct.Q4_1.gguf"}
    assert hop.params["prompt"]["name"] == "ask" and hop.params["prompt"]["version"] == "1"
    assert hop.path()[0].source_file == "topics.jsonl"
