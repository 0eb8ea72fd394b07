"""The reasoning_math group materialized by Dagster: with a scripted model behind a real OpenAI-compatible endpoint
(every step, both ways of grading, lineage from a training row to its seed, the distributions' metadata), and with
the embedded model (slow: the plumbing end to end with a real, if weak, model)."""

import json
import re
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dataflow_assets.lineage import row_lineage
from dataflow_assets.math.reasoning import SAMPLE_DATA, ReasoningMathPipeline
from dataflow_assets.runner import materialize_pipeline
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource
from tests.resources.llm import fault_server
from tests.resources.llm.fault_server import FaultServer, Recorded

STEPS = [
    "seeds",
    "synthesized",
    "fused",
    "questions",
    "verified",
    "labelled",
    "distribution",
    "answers",
    "graded",
    "filtered",
    "deduplicated",
    "training",
]


def seed_rows(count: int) -> list[dict]:
    return [json.loads(line) for line in (SAMPLE_DATA / "seeds.jsonl").read_text().splitlines()[:count]]


@pytest.fixture
def seeds(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "seeds.jsonl").write_text("".join(json.dumps(row) + "\n" for row in seed_rows(3)))
    return folder


def table(root, *path, side=None) -> pl.DataFrame:
    return pl.read_delta(DeltaStore(root).uri(list(path), side))


def scripted_model(request: Recorded) -> str:
    """A math model in a few rules: new problems that are variants of their seed, one unsolvable variant, fixed
    labels, solutions right for seeds (but one of three samples wrong) and a 2-to-1 vote on new problems."""
    prompt, sample = request.prompt, request.body.get("seed") or 0
    if "new, self-contained math problems" in prompt:
        seed = prompt.split("seed math problem:\n\n", 1)[1].split("\n\n", 1)[0]
        return json.dumps({"items": [{"question": f"Variant {k} of this problem: {seed}"} for k in (1, 2)]})
    if "Fuse the two problems" in prompt:
        return json.dumps({"items": [{"question": "Solve problem A, then use its answer in problem B. What is it?"}]})
    if "Check this math problem" in prompt:
        solvable = "Variant 2 of this problem: A bakery" not in prompt
        return json.dumps({"solvable": solvable, "correct": True, "reason": "checked"})
    if "Rate the difficulty" in prompt:
        return json.dumps({"difficulty": 2 + len(prompt) % 3, "rationale": "routine"})
    if "Classify this math problem" in prompt:
        return json.dumps({"primary": "Algebra" if "$" in prompt else "Arithmetic", "secondary": "word problem"})
    if "Solve the following math problem" in prompt:
        question = prompt.split("Problem: ", 1)[1]
        for row in seed_rows(3):
            if question == row["question"]:
                answer = row["answer"] if sample != 2 else "999"
                return f"We work it out step by step. Therefore the answer is $\\boxed{{{answer}}}$."
        number = len(re.findall(r"\w+", question)) % 7
        return f"Counting carefully gives {number}. So the answer is $\\boxed{{{number if sample < 2 else 0}}}$."
    raise AssertionError(f"unexpected prompt: {prompt[:80]}")


@pytest.fixture
def model(monkeypatch, tmp_path):
    monkeypatch.setattr(fault_server, "answer", scripted_model)
    monkeypatch.setenv("MATH_STUB_KEY", "not-a-secret")
    server = FaultServer().start()
    yield LLMResource(
        backend="openai",
        model="math-stub",
        base_url=server.base_url,
        api_key_env="MATH_STUB_KEY",
        cache_path=str(tmp_path / "llm_cache.sqlite"),
        retry_base_delay_s=0,
    )
    server.stop()


def test_reasoning_math_with_an_openai_compatible_model(seeds, tmp_path, instance, model):
    root = tmp_path / "delta"
    pipeline = ReasoningMathPipeline(seeds, samples=3, fused_pairs=1)
    summary = materialize_pipeline(pipeline, root=root, instance=instance, resources={"llm": model})
    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert list(steps) == STEPS
    for name in ("verified", "labelled", "graded", "filtered", "deduplicated", "training"):  # one row in, one out
        assert steps[name].rows_in == steps[name].rows_out + sum(steps[name].removed_by_reason.values()), name

    assert steps["synthesized"].rows_out == 6 and steps["fused"].rows_out == 1
    assert steps["verified"].removed_by_reason == {"math_question_unsolvable": 1}
    assert steps["answers"].rows_out == 3 * steps["labelled"].rows_out

    graded = pl.concat(
        [table(root, "reasoning_math", "graded"), table(root, "reasoning_math", "graded", side="rejected")],
        how="diagonal_relaxed",
    )
    by_reference = graded.filter(pl.col("graded_by") == "reference")
    assert by_reference.height == 9  # three seeds, three samples each
    assert by_reference.filter(pl.col("_reject_rule").is_null()).height == 6  # the wrong third sample is rejected
    assert set(by_reference["_reject_rule"].drop_nulls()) == {"math_answer_mismatch"}
    voted = graded.filter(pl.col("graded_by") == "vote")
    assert voted.height == 3 * (6 - 1 + 1)  # five verified variants and one fused problem
    assert voted.filter(pl.col("_reject_rule").is_null())["vote_share"].round(3).unique().to_list() == [0.667]

    training = table(root, "reasoning_math", "training")
    assert training.height == steps["deduplicated"].rows_out > 0
    first = training.row(0, named=True)
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert first["text"].startswith("Problem: ")

    variant = training.filter(pl.col("question").str.starts_with("Variant 1")).row(0, named=True)
    hop = row_lineage(pipeline.trace(), DeltaStore(root), "training", variant["_row_id"])
    path = hop.path()
    assert [h.asset.split("/")[1] for h in path] == [
        "seeds",
        "synthesized",
        "questions",
        "verified",
        "labelled",
        "answers",
        "graded",
        "filtered",
        "deduplicated",
        "training",
    ]
    assert path[0].source_file == "seeds.jsonl"
    assert "math-stub" in path[1].engines["llm"]
    assert path[6].params["min_share"] == 0.5  # the grading decision and its parameters are on the path

    event = instance.get_latest_materialization_event(dg.AssetKey(["reasoning_math", "distribution"]))
    metadata = event.asset_materialization.metadata
    assert "difficulty" in metadata["dataflow/histograms"].value
    distribution = table(root, "reasoning_math", "distribution")
    levels = distribution.filter(pl.col("metric") == "difficulty")
    assert levels.height == 10 and levels["value"].sum() == steps["labelled"].rows_out


@pytest.mark.llm
@pytest.mark.slow
def test_reasoning_math_with_the_embedded_model(seeds, tmp_path, instance):
    llm = {"llm": LLMResource(backend="local", cache_path=str(tmp_path / "llm_cache.sqlite"))}
    # The 135M model judges every seed "incorrect": without its judge the later steps get rows to work on.
    pipeline = ReasoningMathPipeline(
        seeds,
        samples=2,
        new_per_seed=1,
        fused_pairs=1,
        max_question_tokens=160,
        max_solution_tokens=96,
        judge_questions=False,
    )
    root = tmp_path / "delta"
    summary = materialize_pipeline(pipeline, root=root, instance=instance, resources=llm)
    steps = {s.asset.split("/")[1]: s for s in summary.steps}
    assert list(steps) == STEPS
    for name in ("verified", "labelled", "graded", "filtered", "deduplicated", "training"):  # one row in, one out
        assert steps[name].rows_in == steps[name].rows_out + sum(steps[name].removed_by_reason.values()), name
    assert steps["seeds"].rows_out == 3
    assert steps["answers"].rows_out == 2 * steps["labelled"].rows_out > 0
    graded = pl.concat(
        [table(root, "reasoning_math", "graded"), table(root, "reasoning_math", "graded", side="rejected")],
        how="diagonal_relaxed",
    )
    assert set(graded["graded_by"]) <= {"reference", "vote"} and "reference" in set(graded["graded_by"])
