"""A small input folder and a scripted planner that answers each ask of the agent (tests of control flow)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import ScriptedLLM, as_json

DOCS = [
    {"body": "<p>Rivers shape the land they cross and carry silt toward the sea over thousands of years.</p>", "n": 1},
    {"body": "Too short.", "n": 2},
    {"body": "The printing press lowered the cost of books so far that reading spread among merchants.", "n": 3},
    {"body": "<b>Bridges</b> let roads cross rivers, and their arches carry the weight down to the banks.", "n": 4},
]


@pytest.fixture
def docs_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "part-1.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    return folder


def planner(steps: list[dict[str, Any]]) -> Callable[[str], Any]:
    """Answer the agent's asks with ``steps`` (``[{"operator", "why", "fill"}]``): the request split into the
    steps' reasons, then each step's pick and each step's fill."""

    def answer(prompt: str) -> Any:
        first = prompt.splitlines()[0]
        if first == "TASK: split the request into steps":
            return as_json({"steps": [s["why"] for s in steps]})
        index = int(first.split("step ")[1].split(":")[0]) - 1
        if first.startswith("TASK: choose the operator"):
            return as_json({"operator": steps[index]["operator"]})
        return as_json(steps[index]["fill"])

    return answer


GOOD_STEPS = [
    {"operator": "remove_html", "why": "strip markup", "fill": {"input_key": "body", "output_key": "body"}},
    {"operator": "word_count", "why": "drop short docs", "fill": {"min_words": 5, "input_key": "body"}},
]


@pytest.fixture
def good_llm() -> ScriptedLLM:
    return ScriptedLLM(planner(GOOD_STEPS))
