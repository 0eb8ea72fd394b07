"""Operator synthesis with a scripted model and the real bubblewrap sandbox: a correct operator is tested, registered
in the user's package and used by the built pipeline; one whose examples fail, or that tries to escape, is not
registered and the account says why; the shipped operators/ tree never changes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import operators
from dataflow_assets.agent.api import build_pipeline
from dataflow_assets.agent.plan import NEW
from dataflow_assets.agent.synthesize import LIMITS, Synthesizer, library_folders, project_root
from operators.errors import DataflowError
from operators.registry import forget_domain, get_operator, registered
from operators.sandbox.protocol import Verdict
from tests.support import ScriptedLLM, as_json

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = {"columns": {"body": "string", "n": "int"}, "sample": [{"body": "Rivers shape the land.", "n": 1}]}
MENTIONS = {
    "name": "mentions_word",
    "category": "filter",
    "summary": "Keep rows that mention a word",
    "input_key": "body",
}
MENTIONS_LOGIC = {
    "parameters": [{"name": "word", "type": "string", "default": "river", "description": "The word to look for"}],
    "imports": [],
    "code": "return word.lower() in value.lower()",
    "examples": [
        {"input": "Rivers shape the land", "expected": "keep"},
        {"input": "Too short.", "expected": "reject"},
        {"input": "Bridges cross a RIVER", "expected": "keep"},
    ],
}
SHOUT = {"name": "shout", "category": "refine", "summary": "Upper-case the text", "input_key": "body"}


def model(sketch: dict[str, Any], logic: Callable[[str], dict[str, Any]], plan: dict[str, Any] | None = None):
    """A scripted model: the sketch, then ``logic(prompt)`` for each logic ask; with ``plan``, also the planner's
    split and pick (``plan["pick"]``: the step's ``why`` and operator) and fill (``plan["fill"]``) for a one-step
    plan."""

    def answer(prompt: str):
        first = prompt.splitlines()[0]
        if first.startswith("TASK: sketch"):
            return as_json(sketch)
        if first.startswith("TASK: write the logic"):
            return as_json(logic(prompt))
        if plan is not None and first == "TASK: split the request into steps":
            return as_json({"steps": [step["why"] for step in plan["pick"]]})
        if plan is not None and first.startswith("TASK: choose the operator of step 1"):
            return as_json({"operator": plan["pick"][0]["operator"]})
        if plan is not None and first.startswith("TASK: set the parameters of step 1"):
            return as_json(plan["fill"])
        raise AssertionError(f"unexpected ask: {first}")

    return ScriptedLLM(answer)


@pytest.fixture(scope="module")
def sandbox():
    from resources.sandbox.client import SandboxClient

    try:
        client = SandboxClient(LIMITS, workers=1, libraries=library_folders())
    except DataflowError as error:
        pytest.skip(f"no bubblewrap sandbox here: {error}")
    yield client
    client.close()


@pytest.fixture(scope="module", autouse=True)
def shipped_tree_unchanged():
    """(d): nothing under the shipped operators/ tree is added, removed or modified by any test of this module."""
    before = _tree(project_root() / "operators"), _git_status()
    yield
    assert (_tree(project_root() / "operators"), _git_status()) == before


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() + f"@{p.stat().st_mtime_ns}"
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _git_status() -> str:
    done = subprocess.run(["git", "status", "--porcelain", "--", "operators"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else "no git"


@pytest.fixture
def domain(request, tmp_path):
    """A domain name of the test's own; afterwards the registry, the import system and the path forget it."""
    name = f"synth_{uuid.uuid4().hex[:8]}"
    yield name
    forget_domain(name)
    for module in [m for m in sys.modules if m == f"operators.{name}" or m.startswith(f"operators.{name}.")]:
        del sys.modules[module]
    for entries in (sys.path, operators.__path__):
        for entry in [e for e in entries if e.startswith(str(tmp_path))]:
            entries.remove(entry)


def test_a_correct_operator_is_tested_registered_and_used_by_the_pipeline(tmp_path, docs_folder, sandbox, domain):
    """(a): sandbox pass -> written to <out>/operators/<domain>/ -> registered -> planned, compiled, dry-run."""
    step = "keep the documents that mention a river"
    plan = {"pick": [{"operator": NEW, "why": step}], "fill": {"word": "river", "input_key": "body"}}
    llm = model(MENTIONS, lambda prompt: MENTIONS_LOGIC, plan)
    out = tmp_path / "mine"
    report = build_pipeline(
        "keep documents about rivers", input=docs_folder, name="rivers", llm=llm, out=out, synthesize=True,
        sandbox=sandbox, synthesis_domain=domain,
    )  # fmt: skip
    assert report.ok, report.to_markdown()
    [made] = report.synthesized
    assert made["status"] == "registered" and made["name"] == "mentions_word" and made["attempts"] == []
    module = out / "operators" / domain / "filter" / "mentions_word.py"
    assert made["module"] == str(module) and made["test"] == str(
        out / "tests/operators" / domain / "test_mentions_word.py"
    )
    assert "3 example(s), verdict passed in the sandbox" in made["tests_run"]
    assert get_operator("mentions_word").__module__ == f"operators.{domain}.filter.mentions_word"
    assert report.plan == [
        {"operator": "mentions_word", "why": step, "params": {"word": "river"}, "keys": {"input_key": "body"}}
    ]
    assert 'MentionsWordFilter(word="river")' in Path(report.module).read_text()
    steps = [(s["step"], s["rows_in"], s["rows_out"]) for s in report.dry_run["steps"]]
    assert steps == [("raw", 4, 4), ("mentions_word", 4, 2)]
    text = report.to_markdown()
    assert "## Synthesized operators" in text and f"module: {module}" in text and "verdict passed" in text
    logic_prompt = next(prompt for prompt in llm.prompts if prompt.startswith("TASK: write the logic"))
    assert "SIMILAR OPERATORS OF THE LIBRARY" in logic_prompt and "--- a test of" in logic_prompt

    # the user's package on its own: the test it wrote passes under pytest, discovery finds the operator
    env = {"PYTHONPATH": f"{out}:{ROOT}", "PATH": "/usr/bin:/bin"}
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", made["test"]],
        capture_output=True, text=True, env=env, cwd=out,
    )  # fmt: skip
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout + tested.stderr
    listed = subprocess.run(
        [sys.executable, "-c", "from operators import registered; print(registered()['mentions_word'].domain)"],
        capture_output=True, text=True, env=env, cwd=out,
    )  # fmt: skip
    assert listed.stdout.strip() == domain, listed.stderr


def test_failing_examples_are_fed_back_and_nothing_is_registered(tmp_path, sandbox, domain):
    """(b): the examples fail in the sandbox; the failure reaches the next prompt; the account says why."""
    wrong = {
        "output_key": "loud",
        "output_type": "string",
        "parameters": [],
        "imports": [],
        "code": "return value.lower()",  # the examples say upper
        "examples": [{"input": "calm", "expected": "CALM"}, {"input": "Why", "expected": "WHY"}],
    }
    llm = model(SHOUT, lambda prompt: wrong)
    made = Synthesizer(llm, tmp_path, sandbox=sandbox, domain=domain, rounds=2).synthesize(
        "upper-case the body", "shout", SCHEMA
    )
    assert made.status == "failed" and [a["stage"] for a in made.attempts] == ["sandbox", "sandbox"]
    assert "failed: AssertionError: (input, got, expected): [('calm', 'calm', 'CALM')" in made.attempts[0]["detail"]
    logic_prompts = [p for p in llm.prompts if p.startswith("TASK: write the logic")]
    assert "THE LAST ATTEMPT FAILED" not in logic_prompts[0]
    assert "THE LAST ATTEMPT FAILED" in logic_prompts[1] and "('calm', 'calm', 'CALM')" in logic_prompts[1]
    assert "nothing was registered" in made.account and "AssertionError" in made.account
    assert "shout" not in registered()
    assert not (tmp_path / "operators").exists()


def test_a_passing_operator_that_breaks_the_policy_is_not_registered(tmp_path, sandbox, domain):
    """The sandbox passes it, but it would later run in the user's process: reflection is refused."""
    sly = {
        "output_key": "loud",
        "output_type": "string",
        "parameters": [],
        "imports": [],
        "code": "return getattr(value, 'upper')()",
        "examples": [{"input": "calm", "expected": "CALM"}, {"input": "", "expected": ""}],
    }
    made = Synthesizer(model(SHOUT, lambda p: sly), tmp_path, sandbox=sandbox, domain=domain, rounds=1).synthesize(
        "upper-case the body", "shout", SCHEMA
    )
    assert [(a["stage"], a["detail"]) for a in made.attempts] == [
        ("policy", "line 1: `getattr` is not allowed (no I/O, no dynamic code)")
    ]
    assert "shout" not in registered()


@pytest.fixture
def listener():
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)
    seen: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            seen.append(server.accept())

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    server.close()
    thread.join(timeout=5)


def test_code_that_tries_to_escape_is_stopped_by_the_sandbox_and_not_registered(tmp_path, sandbox, domain, listener):
    """(c): each escape would make its examples pass on the host; in the sandbox each fails or is blocked."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the host's secret")
    marker = tmp_path / f"planted-{uuid.uuid4().hex}"
    port, connections = listener
    escapes = {
        "read a host file": (f"return open({str(secret)!r}).read()", "the host's secret", "failed: FileNotFoundError"),
        "connect to the host": (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)\nreturn 'sent'",
            "sent",
            "failed: ConnectionRefusedError",
        ),
        "run a command": (
            f"import os\nos.system('touch {marker}')\nreturn 'done'",
            "done",
            "blocked: the program used os.system",
        ),
    }
    for what, (code, expected, verdict) in escapes.items():
        logic = {
            "output_key": "stolen",
            "output_type": "string",
            "parameters": [],
            "imports": [],
            "code": code,
            "examples": [{"input": "a", "expected": expected}, {"input": "b", "expected": expected}],
        }
        sketch = {**SHOUT, "name": "innocent"}
        made = Synthesizer(model(sketch, lambda p, logic=logic: logic), tmp_path, sandbox=sandbox, domain=domain,
                           rounds=1).synthesize("copy the body", "copy", SCHEMA)  # fmt: skip
        [attempt] = made.attempts
        assert attempt["stage"] == "sandbox" and attempt["detail"].startswith(verdict), (what, attempt)
        assert made.status == "failed" and "nothing was registered" in made.account, what
    assert "innocent" not in registered()
    assert not (tmp_path / "operators").exists()
    assert connections == [] and not marker.exists()


def test_the_shipped_project_is_refused_as_the_users_package(tmp_path):
    with pytest.raises(DataflowError, match="is a package of its own"):
        Synthesizer(ScriptedLLM({}), project_root())
    with pytest.raises(DataflowError, match="the domain name 'text' is taken"):
        Synthesizer(ScriptedLLM({}), tmp_path, domain="text")


def test_a_sandbox_result_is_judged_by_its_verdict_only(tmp_path, domain):
    """Whatever the sandbox prints, only its verdict counts (a stand-in sandbox that says 'failed' with a passing
    story on stdout)."""

    class Refusing:
        identity, limits = "stand-in", LIMITS

        def run(self, program, **options):
            from operators.sandbox.protocol import SandboxResult

            return SandboxResult(Verdict.FAILED, 0, "1 passed\n", "", 0.1, 0.1, "the program exited before the end")

        def run_many(self, jobs):
            return [self.run(job.program) for job in jobs]

    logic = {**MENTIONS_LOGIC}
    made = Synthesizer(
        model(MENTIONS, lambda p: logic), tmp_path, sandbox=Refusing(), domain=domain, rounds=1
    ).synthesize("keep the documents that mention a river", "rivers", SCHEMA)
    assert made.status == "failed" and made.attempts[0]["detail"].startswith("failed: the program exited")
    assert json.dumps(made.to_json())  # the record goes into the checkpointed state as JSON
