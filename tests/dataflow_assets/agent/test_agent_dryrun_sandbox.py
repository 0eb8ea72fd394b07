"""The dry run in the bubblewrap sandbox: a generated module runs as in a plain child process, but cannot write
outside its scratch folder, read a file outside what is bound, or reach the network unless an engine of its plan
is a server; where the sandbox cannot run, the dry run falls back to a child process and says why."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from dataflow_assets.agent.dryrun import (
    SCRATCH,
    Limits,
    SandboxDryRunner,
    SubprocessDryRunner,
    default_runner,
    sandbox_problem,
    write_sample,
)
from dataflow_assets.agent.engines import AgentEngines, EngineAccess
from dataflow_assets.agent.plan import PlanStep
from dataflow_assets.agent.render import render, write_module
from dataflow_assets.agent.understand import understand_input
from tests.dataflow_assets.agent.conftest import GOOD_STEPS


@pytest.fixture(scope="module")
def sandboxed() -> None:
    problem = sandbox_problem()
    if problem is not None:
        pytest.skip(f"no bubblewrap sandbox here: {problem}")


@pytest.fixture
def module(tmp_path, docs_folder) -> Path:
    steps = [PlanStep(s["operator"], s["why"], {k: v for k, v in s["fill"].items() if k == "min_words"},
                      {k: v for k, v in s["fill"].items() if k.endswith("_key")}) for s in GOOD_STEPS]  # fmt: skip
    text = render("docs_clean", "x", steps, understand_input(docs_folder).to_json())
    return write_module(tmp_path / "out", "docs_clean", text)


@pytest.fixture
def sample(tmp_path, docs_folder) -> Path:
    return write_sample(str(docs_folder), "*.jsonl", tmp_path / "sample", rows=3)


def with_prelude(module: Path, name: str, prelude: str) -> Path:
    """A copy of ``module`` that runs ``prelude`` when imported (what a rogue module would do)."""
    path = module.with_name(f"{name}.py")
    path.write_text(module.read_text().replace("from pathlib import Path\n", f"from pathlib import Path\n{prelude}\n"))
    return path


def test_the_sandboxed_dry_run_counts_rows_per_step(sandboxed, module, sample):
    result = SandboxDryRunner().run(module, sample)
    assert result.ok, result.error
    assert [(s.step, s.rows_in, s.rows_out) for s in result.steps] == [
        ("raw", 3, 3),
        ("remove_html", 3, 3),
        ("word_count", 3, 2),
    ]
    assert result.isolation.startswith("sandbox[bwrap]")


def test_a_module_cannot_write_outside_its_scratch_or_read_outside_what_is_bound(sandboxed, tmp_path, module, sample):
    runner = SandboxDryRunner()
    scratch = with_prelude(module, "scratch", f"Path({SCRATCH!r}, 'notes.txt').write_text('fine')")
    assert runner.run(scratch, sample).ok

    beside = with_prelude(module, "beside", f"Path({str(module.parent)!r}, 'x.txt').write_text('x')")
    result = runner.run(beside, sample)
    assert not result.ok and "Read-only file system" in result.error and "writes only its scratch" in result.error
    assert not (module.parent / "x.txt").exists()

    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    reader = with_prelude(module, "reader", f"print(Path({str(secret)!r}).read_text())")
    result = runner.run(reader, sample)
    assert not result.ok and "No such file or directory" in result.error and "reads only" in result.error
    assert (
        SubprocessDryRunner().run(reader, sample).ok
    )  # a plain child process reads it: the sandbox made the difference


def test_the_network_is_shared_only_for_an_engine_that_is_a_server(sandboxed, module, sample):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        probe = (
            "import socket\n"
            "from operators import SqlExecutableFilter\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
            "raise RuntimeError('connected to the host')"
        )
        reaching = with_prelude(module, "reaching", probe)
        alone = SandboxDryRunner().run(reaching, sample)
        assert not alone.ok and "ConnectionRefusedError" in alone.error
        server = AgentEngines({"database": EngineAccess(network=True)})
        shared = SandboxDryRunner(engines=server).run(reaching, sample)
        assert not shared.ok and "connected to the host" in shared.error


def test_the_wall_clock_budget_kills_the_sandbox(sandboxed, tmp_path, sample):
    spin = tmp_path / "spin.py"
    spin.write_text("while True:\n    pass\n")
    result = SandboxDryRunner(Limits(wall_s=3, cpu_s=60)).run(spin, sample)
    assert not result.ok and "ran over 3 s" in result.error


def test_without_the_sandbox_the_dry_run_falls_back_and_says_why(caplog):
    engines = AgentEngines({"llm": EngineAccess(unsandboxed="the vllm backend needs the GPU devices")})
    with caplog.at_level(logging.WARNING, logger="dataflow_assets.agent.dryrun"):
        runner = default_runner(engines)
    assert isinstance(runner, SubprocessDryRunner) and not isinstance(runner, SandboxDryRunner)
    assert "not sandboxed: the vllm backend needs the GPU devices" in runner.identity
    assert "not in the sandbox: the vllm backend" in caplog.text
