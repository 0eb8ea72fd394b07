"""The agent's graph with a scripted planner: a pipeline built end to end, the repair loop fed by validation
errors, the account given when it cannot succeed, an interrupted session resumed from its SQLite checkpoint, an
edited plan in an interactive session, and the result found by pipeline discovery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dataflow_assets.agent.api import build_pipeline
from dataflow_assets.agent.dryrun import DryRunResult, StepRows
from tests.dataflow_assets.agent.conftest import GOOD_STEPS, planner
from tests.support import ScriptedLLM

REQUEST = "strip markup and drop short docs"
"""What ``GOOD_STEPS`` do: the scripted split answers with their reasons, which share the request's words."""


class CountingRunner:
    """A stand-in for the child-process dry run (tested on its own) that can fail its first call."""

    def __init__(self, interrupt_first: bool = False) -> None:
        self.calls = 0
        self.interrupt_first = interrupt_first

    def run(self, module: Path, sample: Path) -> DryRunResult:
        self.calls += 1
        if self.interrupt_first and self.calls == 1:
            raise KeyboardInterrupt
        return DryRunResult(True, [StepRows("raw", 4, 4), StepRows("last", 4, 3)], 0.1)


def test_a_request_becomes_a_module_that_was_dry_run(tmp_path, docs_folder, good_llm):
    report = build_pipeline(REQUEST, input=docs_folder, name="docs", llm=good_llm, out=tmp_path)
    assert report.ok, report.to_markdown()
    assert [s["operator"] for s in report.plan] == ["remove_html", "word_count"]
    assert report.plan[1]["params"] == {"min_words": 5}
    assert report.llm_calls == 5 and len(report.rounds) == 1  # the split, two picks, two fills
    steps = [(s["step"], s["rows_in"], s["rows_out"]) for s in report.dry_run["steps"]]
    assert steps == [("raw", 4, 4), ("remove_html", 4, 4), ("word_count", 4, 3)]
    assert Path(report.module) == tmp_path / "dataflow_assets" / "agent_built" / "docs.py"
    assert "word_count 4 -> 3" in report.to_markdown()


def test_validation_errors_are_fed_back_until_the_plan_is_repaired(tmp_path, docs_folder):
    wrong = [GOOD_STEPS[0], {**GOOD_STEPS[1], "fill": {"min_words": 5, "input_key": "text"}}]  # schema ignored
    answers = [planner(wrong), planner(wrong), planner(GOOD_STEPS)]
    seen: list[str] = []

    def answer(prompt: str):
        if prompt.startswith("TASK: choose the operator of step 1"):  # a round begins
            seen.append(prompt)
        return answers[max(len(seen) - 1, 0)](prompt)

    llm = ScriptedLLM(answer)
    report = build_pipeline(
        "strip markup, drop short docs", input=docs_folder, name="docs", llm=llm, out=tmp_path, runner=CountingRunner()
    )
    assert report.ok
    assert [r["errors"] != [] for r in report.rounds] == [True, True, False]
    assert "input_key='text' names a column that does not exist" in report.rounds[0]["errors"][0]
    assert "THE LAST PLAN FAILED" not in seen[0]
    assert "columns available here: _row_id" in seen[1] and "body" in seen[1]


def test_it_stops_with_an_account_after_the_last_round(tmp_path, docs_folder):
    wrong = [{**GOOD_STEPS[1], "fill": {"min_words": 6, "max_words": 2, "input_key": "body"}}]
    llm = ScriptedLLM(planner(wrong))
    report = build_pipeline(
        "keep docs of 6 to 2 words",
        input=docs_folder,
        name="docs",
        llm=llm,
        out=tmp_path,
        max_rounds=1,
        runner=CountingRunner(),
    )
    assert report.status == "failed" and len(report.rounds) == 2
    assert "No valid pipeline after 2 round(s)" in report.account and "min_words" in report.account
    assert "error:" in report.to_markdown()


def test_an_interrupted_session_resumes_from_its_checkpoint(tmp_path, docs_folder, good_llm):
    runner = CountingRunner(interrupt_first=True)
    with pytest.raises(KeyboardInterrupt):
        build_pipeline(REQUEST, input=docs_folder, name="docs", llm=good_llm, out=tmp_path, runner=runner)
    assert len(good_llm.prompts) == 5
    report = build_pipeline(REQUEST, input=docs_folder, name="docs", llm=good_llm, out=tmp_path, runner=runner)
    assert report.ok and runner.calls == 2
    assert len(good_llm.prompts) == 5  # planned once: the second call went on from the dry run
    assert (tmp_path / ".dataflow_agent" / "checkpoints.sqlite").is_file()


def test_interactive_review_can_edit_the_plan_before_it_is_built(tmp_path, docs_folder, good_llm):
    def review(plan):
        plan[1]["params"]["min_words"] = 15
        return plan

    report = build_pipeline(
        REQUEST, input=docs_folder, name="docs", llm=good_llm, out=tmp_path, runner=CountingRunner(), review=review
    )
    assert report.ok and "WordCountFilter(min_words=15)" in Path(report.module).read_text()
    declined = build_pipeline(
        REQUEST, input=docs_folder, name="docs2", llm=good_llm, out=tmp_path, review=lambda plan: None
    )
    assert declined.status == "stopped" and not (tmp_path / "dataflow_assets" / "agent_built" / "docs2.py").exists()


def test_the_built_pipeline_is_discovered_from_the_users_folder(tmp_path, docs_folder, good_llm):
    build_pipeline(REQUEST, input=docs_folder, name="docs", llm=good_llm, out=tmp_path, runner=CountingRunner())
    code = (
        "from dataflow_assets.pipelines import discover_pipelines as d; f = d(); "
        "print(sorted(f.pipelines), f.domains['docs'], [p.line() for p in f.problems])"
    )
    root = Path(__file__).parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{root}:{tmp_path}"},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "'docs'" in done.stdout and "agent_built" in done.stdout and done.stdout.strip().endswith("[]")
