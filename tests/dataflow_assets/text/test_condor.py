"""Condor from scratch: questions at three difficulties per tag, and the ``text_condor`` group through Dagster
with a scripted LLM (structure and lineage; the embedded model's answers are too poor to pass the judge)."""

import json

import polars as pl

from dataflow_assets.runner import materialize_pipeline
from dataflow_assets.text.condor import TextCondorPipeline, bundled_tags
from resources.delta_store import DeltaStore
from tests.support import ScriptedLLM, as_json, ok


def scripted(prompt: str):
    if prompt.startswith("Knowledge tag: "):
        tag = prompt.splitlines()[0].removeprefix("Knowledge tag: ")
        levels = ("easy", "medium", "hard") if tag != "inflation" else ("easy", "easy", "hard")  # one bad answer
        return as_json({"items": [{"difficulty": d, "instruction": f"A {d} question on {tag}?"} for d in levels]})
    if "Please rate according to the accuracy" in prompt:
        return as_json({"score": 2 if "hard question on hash tables" in prompt else 5, "rationale": "ok"})
    if "List the response's problems" in prompt:
        return ok("Add an example.")
    if "Rewrite the response" in prompt:
        return ok("An improved, detailed answer with an example." + prompt.split("Instruction: ")[1].split("\n")[0])
    return ok("A first answer that explains the point.")


def test_text_condor_group_synthesizes_refines_and_judges(tmp_path, instance):
    llm = ScriptedLLM(scripted)
    materialize_pipeline(TextCondorPipeline(), root=tmp_path / "delta", instance=instance, resources={"llm": llm})
    store = DeltaStore(tmp_path / "delta")
    questions = pl.read_delta(store.uri(["text_condor", "questions"]))
    tags = bundled_tags()
    assert questions.height == 3 * (len(tags) - 1)  # "inflation" answered without a medium question
    assert questions.group_by("topic").agg(pl.col("difficulty").sort()).sort("topic")["difficulty"].to_list() == [
        ["easy", "hard", "medium"]
    ] * (len(tags) - 1)
    rejected = pl.read_delta(store.uri(["text_condor", "questions"], "rejected"))
    assert rejected["_reject_rule"].to_list() == ["llm_unparseable_answer"] and "inflation" in rejected["prompt"][0]
    final = pl.read_delta(store.uri(["text_condor", "deduplicated"]))
    assert final.height == questions.height - 1  # the judge rejected one
    assert final["response"].str.starts_with("An improved").all()
    assert set(final["_row_id"]) <= set(questions["_row_id"])  # answering and refining keep the question's row
    assert questions["_parent_ids"].to_list() == [[]] * questions.height  # synthesized from nothing
    assert "A hard question on hash tables?" not in final["instruction"].to_list()  # judged 2 of 5
    assert '"enum": ["easy", "medium", "hard"]' in json.dumps(llm.calls[0]["json_schema"])
