"""What the model writes for a synthesized operator: the answers' schemas, the checks on them, and the rendered
module and test (lint-clean with the project's rules, whatever the model wrote inside ``compute``)."""

import subprocess
import sys
from pathlib import Path

import pytest

from dataflow_assets.agent.operator_render import render_operator
from dataflow_assets.agent.operator_spec import (
    SpecError,
    build_spec,
    logic_schema,
    policy_problems,
    sketch_schema,
)
from dataflow_assets.agent.plan import NEW, pick_steps
from dataflow_assets.agent.synthesize import lint
from tests.support import ScriptedLLM, as_json

COLUMNS = {"body": "string", "n": "int"}
FILTER_SKETCH = {
    "name": "mentions_word",
    "category": "filter",
    "summary": "Keep rows that mention a word",
    "input_key": "body",
}
FILTER_LOGIC = {
    "parameters": [{"name": "word", "type": "string", "default": "river", "description": "The word to look for"}],
    "imports": ["re"],
    "code": "return re.search(r'\\b' + re.escape(word), value, re.IGNORECASE) is not None",
    "examples": [{"input": "Rivers run", "expected": "keep"}, {"input": "Too short.", "expected": "reject"}],
}
SCORE_SKETCH = {"name": "vowel_share", "category": "evaluate", "summary": "Share of vowels", "input_key": "body"}
SCORE_LOGIC = {
    "output_key": "vowels",
    "output_type": "float",
    "parameters": [],
    "imports": [],
    "code": "letters = [c for c in value.lower() if c.isalpha()]\n"
    "return sum(c in 'aeiou' for c in letters) / max(1, len(letters))",
    "examples": [{"input": "abab", "expected": "0.5"}, {"input": "", "expected": "0"}],
}


def test_the_schemas_bound_what_the_model_may_write():
    sketch = sketch_schema(list(COLUMNS))
    assert sketch["properties"]["input_key"]["enum"] == ["body", "n"]
    assert sketch["properties"]["category"]["enum"] == ["refine", "evaluate", "filter"]
    filters = logic_schema("filter")
    assert "output_key" not in filters["properties"]
    assert filters["properties"]["examples"]["items"]["properties"]["expected"]["enum"] == ["keep", "reject"]
    assert logic_schema("refine")["properties"]["output_type"]["enum"] == ["string", "int", "float", "bool"]


@pytest.mark.parametrize(
    ("sketch", "logic", "message"),
    [
        ({**FILTER_SKETCH, "input_key": "title"}, FILTER_LOGIC, "input_key 'title' is not a column"),
        ({**FILTER_SKETCH, "name": "Mentions Word"}, FILTER_LOGIC, "must be snake_case"),
        (FILTER_SKETCH, {**FILTER_LOGIC, "examples": FILTER_LOGIC["examples"][:1]}, "at least two examples"),
        (SCORE_SKETCH, {**SCORE_LOGIC, "examples": [{"input": "a", "expected": "half"}] * 2}, "'half' is not a float"),
        (
            FILTER_SKETCH,
            {**FILTER_LOGIC, "parameters": [{"name": "input_key", "type": "string", "default": "", "description": ""}]},
            "'input_key' is reserved",
        ),
    ],
)
def test_an_answer_that_makes_no_valid_operator_says_which_field(sketch, logic, message):
    with pytest.raises(SpecError, match=message):
        build_spec("a step", sketch, logic, COLUMNS)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("import os\nreturn os.getcwd()", "may not import"),
        ("return open('/etc/passwd').read()", "`open` is not allowed"),
        ("return value.__class__.__name__", "dunder attribute `.__class__`"),
        ("return eval(value)", "`eval` is not allowed"),
        ("x = value", "never returns"),
        ("return (", "does not parse"),
    ],
)
def test_the_policy_refuses_code_that_is_not_pure_computation(code, problem):
    spec = build_spec("a step", SCORE_SKETCH, {**SCORE_LOGIC, "code": code}, COLUMNS)
    assert any(problem in p for p in policy_problems(spec)), policy_problems(spec)


def test_pure_code_passes_the_policy():
    assert policy_problems(build_spec("a step", FILTER_SKETCH, FILTER_LOGIC, COLUMNS)) == []
    assert policy_problems(build_spec("a step", SCORE_SKETCH, SCORE_LOGIC, COLUMNS)) == []


@pytest.mark.parametrize(("sketch", "logic"), [(FILTER_SKETCH, FILTER_LOGIC), (SCORE_SKETCH, SCORE_LOGIC)])
def test_the_rendered_files_pass_the_projects_lint(tmp_path, sketch, logic):
    rendered = render_operator(build_spec("keep what mentions rivers", sketch, logic, COLUMNS), "mine")
    assert rendered.module == f"operators/mine/{sketch['category']}/{sketch['name']}.py"
    assert lint(tmp_path, rendered) == ""  # formats the files where they are written, finds nothing
    module = (tmp_path / rendered.module).read_text()
    assert f'@register("{sketch["name"]}")' in module and "def compute(value: str" in module
    ruff = [str(Path(sys.executable).with_name("ruff")), "--config", str(Path(__file__).parents[3] / "pyproject.toml")]
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run([*ruff, *command, str(tmp_path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_planner_may_name_a_new_operator_only_when_synthesis_is_on():
    llm = ScriptedLLM(lambda prompt: as_json({"operator": NEW}))
    schema = {"columns": {"body": "string"}, "sample": []}
    intents, options = ["count question marks"], [["word_count"]]
    steps = pick_steps(llm, "score questions", schema, intents, options, "", ["word_count", NEW])
    assert [(s.operator, s.why) for s in steps] == [(NEW, "count question marks")]
    assert NEW in llm.calls[0]["json_schema"]["properties"]["operator"]["enum"]
    assert f"- {NEW}: none of the other options does this step" in llm.prompts[0]
    plain = ScriptedLLM(lambda prompt: as_json({"operator": "word_count"}))
    pick_steps(plain, "score questions", schema, intents, options, "", ["word_count"])
    assert NEW not in plain.prompts[0]
    assert NEW not in plain.calls[0]["json_schema"]["properties"]["operator"]["enum"]
