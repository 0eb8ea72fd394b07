"""The two text asset groups, materialized by Dagster on the bundled samples with the embedded model."""

import json
import shutil

import polars as pl
import pytest
from deltalake import DeltaTable

from dataflow_assets.lineage import row_lineage
from dataflow_assets.runner import materialize_pipeline
from dataflow_assets.text.pretrain import SAMPLE_DATA as TEXT_SAMPLE
from dataflow_assets.text.pretrain import TextPretrainPipeline
from dataflow_assets.text.sft import SAMPLE_DATA as SFT_SEEDS
from dataflow_assets.text.sft import TextSftPipeline
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource

pytestmark = pytest.mark.llm


@pytest.fixture
def llm(tmp_path) -> dict[str, LLMResource]:
    return {"llm": LLMResource(backend="local", cache_path=str(tmp_path / "llm_cache.sqlite"))}


def table(root, *path, side=None) -> pl.DataFrame:
    return pl.read_delta(DeltaStore(root).uri(list(path), side))


def test_text_pretrain_cleans_filters_dedups_and_scores_the_sample(tmp_path, instance, llm):
    root = tmp_path / "delta"
    summary = materialize_pipeline(TextPretrainPipeline(), root=root, instance=instance, resources=llm)
    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert list(steps) == ["raw", "refined", "language", "rules", "dedup", "quality"]
    assert all(summary.checks.values()), summary.checks
    for step in steps.values():
        assert step.rows_in == step.rows_out + sum(step.removed_by_reason.values())

    refined = table(root, "text_pretrain", "refined")
    harbour = refined.filter(pl.col("url") == "https://news.example/harbour")["text"][0]
    assert "<p>" not in harbour and "https://" not in harbour and "📸" not in harbour and "&amp;" not in harbour
    forum = refined.filter(pl.col("url") == "https://forum.example/thread")["text"][0]
    assert "<EMAIL>" in forum and "<PHONE>" in forum and "<CREDIT_CARD>" in forum and "maria.lopez" not in forum

    assert {"language_not_allowed"} <= set(steps["language"].removed_by_reason)
    assert any(reason.startswith("gopher_") for reason in steps["rules"].removed_by_reason)
    assert set(steps["dedup"].removed_by_reason) == {"near_duplicate"}
    near = table(root, "text_pretrain", "dedup", side="rejected").filter(pl.col("_reject_rule") == "near_duplicate")
    assert all("kept=" in detail for detail in near["_reject_detail"])

    scored = table(root, "text_pretrain", "quality")
    assert scored["quality_score"].is_between(1, 5).all()


def test_text_sft_synthesizes_pairs_that_trace_back_to_their_seed(tmp_path, instance, llm):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = (SFT_SEEDS / "seeds.jsonl").read_text().splitlines()[:2]
    (seeds / "seeds.jsonl").write_text("\n".join(lines) + "\n")
    root = tmp_path / "delta"
    pipeline = TextSftPipeline(seeds)
    summary = materialize_pipeline(pipeline, root=root, instance=instance, resources=llm)
    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert list(steps) == ["seeds", "generated", "refined", "judged", "deduplicated"]
    for step in steps.values():
        assert step.rows_in == step.rows_out + sum(step.removed_by_reason.values())

    generated = table(root, "text_sft", "generated")
    if generated.height:
        pair = generated.row(0, named=True)
        hop = row_lineage(pipeline.trace(), DeltaStore(root), "generated", pair["_row_id"])
        assert hop.status == "generated" and hop.engines["llm"].startswith("llama.cpp:")
        assert hop.path()[0].source_file == "seeds.jsonl"
        assert pair["instruction"] and pair["response"]


def test_a_new_shard_is_deduplicated_against_the_shards_already_done(tmp_path, instance, llm):
    """Shards 1 and 2 first; shard 3 later holds a near copy of a shard-1 document: it is rejected in favour of the
    earlier row, and the earlier shards' dedup partitions are not rewritten."""
    shards = tmp_path / "shards"
    shards.mkdir()
    for name in ("web-001.jsonl", "web-002.jsonl"):
        shutil.copy(TEXT_SAMPLE / name, shards / name)
    printing = next(
        json.loads(line) for line in (TEXT_SAMPLE / "web-001.jsonl").read_text().splitlines() if "printing" in line
    )
    root = tmp_path / "delta"
    materialize_pipeline(TextPretrainPipeline(shards), root=root, instance=instance, resources=llm)
    before = table(root, "text_pretrain", "dedup").sort("_row_id")
    history_before = DeltaTable(DeltaStore(root).uri(["text_pretrain", "dedup"])).history()

    copy = {
        "text": printing["text"].replace("within a few generations", "within only a few generations"),
        "url": "https://late.example/press",
    }
    (shards / "web-003.jsonl").write_text(json.dumps(copy) + "\n")
    materialize_pipeline(
        TextPretrainPipeline(shards), root=root, instance=instance, resources=llm, partitions=["web-003.jsonl"]
    )
    rejected = table(root, "text_pretrain", "dedup", side="rejected").filter(
        pl.col("url") == "https://late.example/press"
    )
    original = before.filter(pl.col("url") == "https://example.org/printing")["_row_id"][0]
    assert rejected["_reject_rule"].to_list() == ["near_duplicate"]
    assert rejected["_reject_detail"][0].endswith(f"kept={original}")
    after = table(root, "text_pretrain", "dedup").sort("_row_id")
    assert after.filter(pl.col("_partition") != "web-003.jsonl").equals(before)
    new_commits = DeltaTable(DeltaStore(root).uri(["text_pretrain", "dedup"])).history()[: -len(history_before)]
    assert all("web-003" in c["operationParameters"].get("predicate", "") for c in new_commits)
