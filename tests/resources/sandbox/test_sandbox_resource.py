"""SandboxResource: the engine discovered under its name, configured from the environment, usable outside Dagster,
refusing to run without bubblewrap, and loud in its unsafe mode."""

import pytest

from operators.errors import DataflowError
from operators.sandbox.protocol import Sandbox, SandboxJob, Verdict
from resources.engines import discover_engines
from resources.sandbox import client as client_module
from resources.sandbox.resource import SandboxResource


def test_discovered_as_the_sandbox_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAFLOW_SANDBOX_WORKERS", "3")
    monkeypatch.setenv("DATAFLOW_SANDBOX_MODE", "unsafe")
    resource = discover_engines().engines["sandbox"].default_resource(tmp_path)
    assert isinstance(resource, SandboxResource)
    assert (resource.workers, resource.mode, resource.cpu_s) == (3, "unsafe", 10.0)


def test_build_client_outside_dagster(sandbox):
    resource = SandboxResource(cpu_s=2, wall_s=5, workers=2)
    try:
        engine = resource.build_client()
    except DataflowError as error:
        pytest.skip(str(error))
    assert isinstance(engine, Sandbox)
    results = engine.run_many([SandboxJob("print(1)"), SandboxJob("raise ValueError('no')")])
    assert [r.verdict for r in results] == [Verdict.PASSED, Verdict.FAILED]
    assert "cpu=2s wall=5s" in engine.identity
    assert resource.run("x = 1").passed  # the resource is an engine itself, as a step receives it


def test_refuses_to_run_without_bubblewrap(monkeypatch):
    monkeypatch.setattr(client_module.shutil, "which", lambda name: None)
    with pytest.raises(DataflowError, match=r"bubblewrap \(bwrap\) is not installed") as caught:
        SandboxResource().build_client()
    assert "apt-get install -y bubblewrap" in caught.value.hint


def test_unsafe_mode_warns_and_still_judges_by_the_proof():
    with pytest.warns(UserWarning, match="UNSAFE sandbox mode"):
        engine = SandboxResource(mode="unsafe").build_client()
    assert "UNSAFE" in engine.identity
    wrong = engine.run("import sys\ndef f():\n    return 1\nsys.exit(0)", tests="assert f() == 2")
    assert wrong.verdict is Verdict.FAILED
    assert engine.run("def f():\n    return 2", tests="assert f() == 2").verdict is Verdict.PASSED


def test_invalid_configuration_is_refused():
    with pytest.raises(DataflowError, match="unknown mode"):
        client_module.SandboxClient(mode="docker")
    with pytest.raises(DataflowError, match="workers=0"):
        client_module.SandboxClient(workers=0)


def test_sources_are_compiled_inside_when_the_pythons_differ(monkeypatch, sandbox):
    """With another minor version inside the sandbox, code objects cannot cross: the harness compiles the program
    and rewrites the tests itself, with the same verdicts."""
    monkeypatch.setattr(client_module.sys, "version_info", (3, 99))
    engine = client_module.SandboxClient(sandbox.limits)
    assert not engine._precompile
    always_equal = "class E:\n    def __eq__(self, o):\n        return True\ndef f():\n    return E()\n"
    results = engine.run_many(
        [
            SandboxJob("def f():\n    return 2\n", "assert f() == 2"),
            SandboxJob(always_equal, "assert f() == 2"),
            SandboxJob("def f(:\n", "assert f() == 2"),
        ]
    )
    assert [r.verdict for r in results] == [Verdict.PASSED, Verdict.FAILED, Verdict.FAILED]
    assert results[2].detail == "SyntaxError in the program, line 1: invalid syntax"
