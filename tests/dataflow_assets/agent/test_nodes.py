"""Each node of the agent on its own: understanding the input, retrieval, the planner's schemas, rendering,
validation and the dry run in a child process with limits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from dataflow_assets.agent.dryrun import Limits, SubprocessDryRunner, write_sample
from dataflow_assets.agent.plan import (
    PlanStep,
    add_producers,
    bind_keys,
    distinct_writes,
    fill_schema,
    fill_steps,
    grounded_params,
    pick_schema,
    pick_steps,
    split_request,
)
from dataflow_assets.agent.render import render, write_module
from dataflow_assets.agent.retrieve import retrieve
from dataflow_assets.agent.understand import understand_input
from dataflow_assets.agent.validate import validate_module
from operators.registry import get_operator
from tests.dataflow_assets.agent.conftest import GOOD_STEPS, planner
from tests.support import ScriptedLLM, as_json

RUFF = Path(__file__).parents[3] / "pyproject.toml"


def test_understand_reads_types_and_rows_through_the_readers(tmp_path, docs_folder):
    schema = understand_input(docs_folder)
    assert schema.columns == {"body": "string", "n": "int"}
    assert schema.pattern == "*.jsonl"
    assert schema.sample[1] == {"body": "Too short.", "n": 2}
    csv = tmp_path / "csv"
    csv.mkdir()
    (csv / "a.csv").write_text("question,score\nwhat is 2+2?,0.5\nwhy?,\n")
    assert understand_input(csv).columns == {"question": "string", "score": "float?"}


def test_retrieval_finds_operators_by_their_docs():
    found = [c.name for c in retrieve("strip html markup from the pages", k=5)]
    assert found[0] == "remove_html"
    assert "near duplicates" not in found
    dedup = [c.name for c in retrieve("remove near-duplicate documents with minhash", k=3)]
    assert dedup[0] == "minhash_dedup"


def test_a_word_the_docs_lack_matches_the_docs_words_it_starts_with():
    """No doc says "deduplicate"; the dedup operators' names and docs say "dedup" and "duplicates"."""
    found = [c.name for c in retrieve("deduplicate exactly", k=3)]
    assert found[0] == "exact_dedup" and "minhash_dedup" in found


class OneHotEmbedder:
    """Puts texts about smileys on one axis and everything else on another: a stand-in for meaning."""

    identity = "one-hot"
    dimensions = 2

    def embed(self, texts):
        rows = np.zeros((len(texts), 2), dtype=np.float32)
        for i, text in enumerate(texts):
            rows[i, 0 if ("emoji" in text.lower() or "smiley" in text.lower()) else 1] = 1.0
        return rows


def test_embedding_ranking_is_fused_with_bm25():
    """Words alone miss the smiley operators; the embedding ranking brings them among the candidates (k is wide
    enough that operators added to the registry later do not crowd them out)."""
    assert "remove_emoji" not in [c.name for c in retrieve("get rid of smileys", k=8)]
    found = {c.name: c.why for c in retrieve("get rid of smileys", k=8, embedder=OneHotEmbedder())}
    assert "embedding #" in found["remove_emoji"]


def test_schemas_forbid_unknown_operators_parameters_and_columns():
    jsonschema.validate({"operator": "word_count"}, pick_schema(["word_count", "none"]))
    for bad in ("length_filter", "exact_dedup"):  # not in the registry; not among the step's options
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"operator": bad}, pick_schema(["word_count", "none"]))
    schema = fill_schema(get_operator("word_count"), ["_row_id", "body", "n"])
    assert schema["properties"]["input_key"]["enum"] == ["body", "n"]
    jsonschema.validate({"min_words": 3, "input_key": "body"}, schema)
    for bad in ({"min_words": 3, "input_key": "text"}, {"min_wordz": 3, "input_key": "body"}, {"min_words": -1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_an_optional_column_may_stay_unbound_and_a_required_one_must_exist():
    schema = fill_schema(get_operator("code_complexity"), ["_row_id", "code", "lang_hint"])
    assert "input_code_key" in schema["required"] and schema["properties"]["input_code_key"]["enum"] == [
        "code",
        "lang_hint",
    ]
    assert "input_language_key" not in schema["required"]  # the rows have no language column: keep the default
    assert schema["properties"]["input_language_key"]["enum"][0] == "language"
    jsonschema.validate({"input_code_key": "code"}, schema)


def test_two_outputs_of_one_step_never_share_a_column():
    match = get_operator("sql_execution_match")
    same = {"input_sql_key": "sql", "output_key": "ok", "output_reason_key": "ok"}
    assert distinct_writes(match, same) == {
        "input_sql_key": "sql",
        "output_key": "ok",
        "output_reason_key": "execution_match_reason",
    }
    clash = {"output_key": "execution_match_reason"}  # the second output's default is taken by the first
    assert distinct_writes(match, clash) == {**clash, "output_reason_key": "execution_match_reason_2"}


def test_keys_of_a_later_step_may_name_columns_an_earlier_step_wrote(good_llm):
    steps = [
        {"operator": "text_stats", "why": "count", "fill": {"input_key": "body", "words_key": "words"}},
        {"operator": "row_filter", "why": "keep long", "fill": {"condition": "words >= 5"}},
    ]
    llm = ScriptedLLM(planner(steps))
    schema = {"columns": {"body": "string"}, "sample": []}
    picked = pick_steps(llm, "keep long docs", schema, ["count", "keep long"], [["text_stats"], ["row_filter"]])
    fill_steps(llm, "keep long docs", picked, ["_row_id", "body"])
    second = llm.calls[-1]["json_schema"]
    assert (
        "words" in second["properties"].get("input_key", {"enum": ["words"]})["enum"]
        or "condition" in second["properties"]
    )
    text_stats_fill = llm.calls[2]["json_schema"]  # after the two picks
    assert text_stats_fill["properties"]["input_key"]["enum"] == ["body"]


def test_the_split_keeps_only_steps_that_share_a_word_with_the_request():
    schema = {"columns": {"text": "string"}, "sample": []}
    llm = ScriptedLLM(lambda prompt: as_json({"steps": ["clean", "strip the HTML tags", "keep only Spanish texts"]}))
    assert split_request(llm, "Strip HTML tags from the pages", schema) == ["strip the HTML tags"]
    llm = ScriptedLLM(lambda prompt: as_json({"steps": ["step1", "filter", "generate"]}))
    assert split_request(llm, "Remove emoji", schema) == ["Remove emoji"]


def test_when_every_step_needs_no_operator_the_request_is_picked_as_one_step():
    def answer(prompt):
        return as_json({"operator": "remove_html" if "STEP: strip html, drop short" in prompt else "none"})

    llm = ScriptedLLM(answer)
    schema = {"columns": {"body": "string"}, "sample": []}
    steps = pick_steps(llm, "strip html, drop short", schema, ["read", "save"], [["remove_html"], ["word_count"]])
    assert [s.operator for s in steps] == ["remove_html"]
    assert llm.calls[-1]["json_schema"]["properties"]["operator"]["enum"] == ["remove_html", "word_count"]


def test_an_operator_that_reads_a_column_nobody_wrote_gets_its_writer_before_it():
    usable = ["remove_html", "text_stats", "language_id", "language"]
    assert [s.operator for s in add_producers([PlanStep("language")], ["text"], usable)] == ["language_id", "language"]
    present = add_producers([PlanStep("language")], ["text", "language", "language_score"], usable)
    assert [s.operator for s in present] == ["language"]
    # a main input (input_key) is the user's column to bind, never a reason to add a step
    assert [s.operator for s in add_producers([PlanStep("word_count")], ["body"], usable)] == ["word_count"]


def test_numbers_the_request_does_not_state_keep_their_defaults():
    word_count = get_operator("word_count")
    assert grounded_params(word_count, {"min_words": 8, "max_words": 500}, "drop texts under 8 words") == {
        "min_words": 8
    }
    assert grounded_params(word_count, {"min_words": 6}, "keep texts of more than five words") == {"min_words": 6}
    assert grounded_params(word_count, {"min_words": 5}, "drop short texts") == {"min_words": 5}  # the default
    ratio = get_operator("dataflow_symbol_word_ratio")
    assert grounded_params(ratio, {"threshold": 0.3}, "at most 30% symbols per word") == {"threshold": 0.3}
    assert grounded_params(ratio, {"threshold": 0.25}, "at most 30% symbols per word") == {}
    chunks = get_operator("chunk_sentences")
    assert grounded_params(chunks, {"overlap_sentences": 0}, "chunks with no overlap") == {"overlap_sentences": 0}
    assert grounded_params(chunks, {"overlap_sentences": 0}, "chunks of sentences") == {}


def test_a_refiner_rewrites_the_column_it_reads_unless_the_request_names_another():
    remove_html = get_operator("remove_html")
    answer = {"input_key": "body", "output_key": "html_free"}
    assert bind_keys(remove_html, answer, "strip html from the body") == {"input_key": "body", "output_key": "body"}
    answer = {"input_key": "body", "output_key": "clean_body"}
    keys = bind_keys(remove_html, answer, "strip html from body into clean_body")
    assert keys == {"input_key": "body", "output_key": "clean_body"}
    stats = bind_keys(get_operator("text_stats"), {"input_key": "body", "word_count_key": "n"}, "count words")
    assert stats == {"input_key": "body"}  # an evaluator's columns keep their names


def test_rendered_module_passes_lint_and_validation(tmp_path, docs_folder):
    steps = [PlanStep(s["operator"], s["why"], *_split(s)) for s in GOOD_STEPS]
    text = render("docs_clean", 'strip "html" and \\ keep long docs', steps, understand_input(docs_folder).to_json())
    path = write_module(tmp_path, "docs_clean", text)
    assert path == tmp_path / "dataflow_assets" / "agent_built" / "docs_clean.py"
    ruff = [str(Path(__import__("sys").executable).parent / "ruff")]
    for args in (["check", "--config", str(RUFF)], ["format", "--check", "--config", str(RUFF)]):
        done = subprocess.run([*ruff, *args, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    assert validate_module(path) == []
    source = path.read_text()
    assert "self.word_count = WordCountFilter(min_words=5)" in source
    assert 'rows = self.word_count(rows, input_key="body")' in source


def test_validation_names_the_step_and_the_columns_available(tmp_path, docs_folder):
    steps = [PlanStep("word_count", "", {}, {"input_key": "text"})]
    path = write_module(tmp_path, "bad", render("bad", "x", steps, understand_input(docs_folder).to_json()))
    [message] = validate_module(path)
    assert "step 'word_count'" in message and "input_key='text'" in message and "body" in message
    steps = [PlanStep("word_count", "", {"min_words": -3}, {"input_key": "body"})]
    path = write_module(tmp_path, "bad", render("bad", "x", steps, understand_input(docs_folder).to_json()))
    [message] = validate_module(path)
    assert "min_words" in message


def test_dry_run_counts_rows_per_step_in_a_child_process(tmp_path, docs_folder):
    steps = [PlanStep(s["operator"], s["why"], *_split(s)) for s in GOOD_STEPS]
    path = write_module(
        tmp_path, "docs_clean", render("docs_clean", "x", steps, understand_input(docs_folder).to_json())
    )
    sample = write_sample(str(docs_folder), "*.jsonl", tmp_path / "sample", rows=3)
    result = SubprocessDryRunner().run(path, sample)
    assert result.ok, result.error
    assert [(s.step, s.rows_in, s.rows_out) for s in result.steps] == [
        ("raw", 3, 3),
        ("remove_html", 3, 3),
        ("word_count", 3, 2),
    ]
    assert result.steps[-1].rejected == {"word_count_too_short": 1}


def test_dry_run_stops_code_that_runs_over_its_budget(tmp_path):
    module = tmp_path / "spin.py"
    module.write_text("while True:\n    pass\n")
    result = SubprocessDryRunner(Limits(wall_s=1.5, cpu_s=30)).run(module, tmp_path)
    assert not result.ok and "ran over 1.5 s" in result.error
    result = SubprocessDryRunner(Limits(wall_s=30, cpu_s=1)).run(module, tmp_path)
    assert not result.ok and "CPU limit" in result.error


def _split(step):
    cls = get_operator(step["operator"])
    fill = step["fill"]
    return {k: v for k, v in fill.items() if k in cls.model_fields}, {
        k: v for k, v in fill.items() if k in cls.key_parameters()
    }
