"""A domain is one folder that plugs in: scaffolded, discovered, listed, compiled and materialized with no edit to
the project; a broken domain is reported and left out while everything else works."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataflow_assets.scaffold import new_operator, new_pipeline
from operators.base import Category

REPO = Path(__file__).resolve().parents[2]


def in_subprocess(
    args: list[str], plugin_root: Path, tmp_path: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``args`` with ``plugin_root`` on the import path, in a fresh instance and Delta root."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_root), str(REPO)]),
        "DAGSTER_HOME": str(tmp_path / "home"),
        "DATAFLOW_DATA_ROOT": str(tmp_path / "delta"),
    }
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp_path)


def dataflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "dataflow_assets.cli", *args]


@pytest.fixture(scope="module")
def widgets(tmp_path_factory) -> Path:
    """A throwaway domain, scaffolded in a folder outside the project: four operators and a pipeline."""
    root = tmp_path_factory.mktemp("plugin")
    for category in Category:
        new_operator(root, f"widget_{category}", category=category, domain="widgets")
    new_pipeline(root, "widget_corpus", domain="widgets", description="Widgets, cleaned and filtered.")
    return root


def test_scaffolded_files_pass_lint_as_generated(widgets):
    ruff = [str(Path(sys.executable).with_name("ruff")), "--config", str(REPO / "pyproject.toml")]
    files = [str(p) for p in widgets.rglob("*.py")]
    for command in (["check", *files], ["format", "--check", *files]):
        result = subprocess.run([*ruff, *command], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_scaffolded_tests_pass_as_generated(widgets, tmp_path):
    result = in_subprocess(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "--rootdir",
            str(widgets),
            str(widgets / "tests"),
        ],
        widgets,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout


def test_a_plugged_in_domain_shows_in_ops_pipelines_and_the_definitions_and_materializes(widgets, tmp_path):
    ops = in_subprocess(dataflow("ops", "--json", "--domain", "widgets"), widgets, tmp_path)
    assert ops.returncode == 0, ops.stderr
    names = {info["name"]: info for info in json.loads(ops.stdout)}
    assert set(names) == {f"widget_{c}" for c in Category}
    assert names["widget_filter"]["domain"] == "widgets" and names["widget_filter"]["inputs"][0]["default"] == "text"

    listed = in_subprocess(dataflow("pipelines"), widgets, tmp_path)
    assert "widget_corpus" in listed.stdout and "widgets" in listed.stdout, listed.stdout

    load = (
        "from dataflow_assets.definitions import defs; "
        "d = defs(); print(sorted(k.to_user_string() for k in d.resolve_all_asset_keys()))"
    )
    keys = in_subprocess([sys.executable, "-c", load], widgets, tmp_path)
    assert "widget_corpus/long_enough" in keys.stdout and "text_pretrain/rules" in keys.stdout, keys.stderr

    run = in_subprocess(dataflow("run", "widget_corpus"), widgets, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "widget_corpus/long_enough" in run.stdout and "too_short (1)" in run.stdout


@pytest.fixture
def broken(tmp_path) -> Path:
    """Two domains that cannot load: one raises on import, one lacks its optional dependency."""
    root = tmp_path / "plugin"
    crash = root / "operators" / "crashing"
    crash.mkdir(parents=True)
    (crash / "__init__.py").write_text(
        "from operators.domains import DomainSpec\nDOMAIN = DomainSpec(name='crashing', description='broken')\n"
    )
    (crash / "bad.py").write_text("raise RuntimeError('this domain is broken on purpose')\n")
    pipes = root / "dataflow_assets" / "crashing"
    pipes.mkdir(parents=True)
    (pipes / "__init__.py").write_text("")
    (pipes / "pipe.py").write_text("import operators.crashing.bad  # noqa: F401\n")
    missing = root / "operators" / "needy"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text(
        "from operators.domains import DomainSpec\n"
        "DOMAIN = DomainSpec(name='needy', description='x', requires=('no_such_module_xyz',), extra='needy')\n"
    )
    teleport = root / "dataflow_assets" / "teleport"
    teleport.mkdir(parents=True)
    (teleport / "__init__.py").write_text("")
    (teleport / "pipe.py").write_text(TELEPORT_PIPELINE)
    return root


TELEPORT_PIPELINE = """
from typing import ClassVar

from dataflow_assets.general.demo import SAMPLE_DATA
from operators import FileSource, NormalizeTextRefiner, Pipeline


class TeleportRefiner(NormalizeTextRefiner):
    engines: ClassVar[tuple[str, ...]] = ("teleporter",)


class TeleportPipeline(Pipeline):
    group = "teleport"

    def __init__(self) -> None:
        super().__init__()
        self.raw = FileSource(path=str(SAMPLE_DATA), pattern="*.jsonl", columns={"text": "string"})
        self.beam = TeleportRefiner()

    def forward(self):
        return self.beam(self.raw())
"""
"""A pipeline whose step needs an engine that no resources package provides."""


def test_a_broken_domain_is_reported_in_one_line_and_everything_else_works(broken, tmp_path):
    ops = in_subprocess(dataflow("ops"), broken, tmp_path)
    assert ops.returncode == 0, ops.stderr
    assert "domain 'crashing' left out: RuntimeError: this domain is broken on purpose (bad.py:1)" in ops.stdout
    assert "domain 'needy' left out: missing no_such_module_xyz (hint: pip install -e '.[needy]')" in ops.stdout
    assert "word_count" in ops.stdout

    run = in_subprocess(dataflow("run", "demo"), broken, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "demo/paragraphs" in run.stdout

    validate = in_subprocess(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-m",
            "dataflow_assets.definitions",
        ],
        broken,
        tmp_path,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "domain 'crashing' left out" in validate.stderr + validate.stdout
    assert (
        "domain 'teleport/teleport' left out: needs the engine(s) teleporter, which no installed resources package "
        "provides" in validate.stderr + validate.stdout
    )


def test_ops_builds_no_pipeline(monkeypatch):
    from typer.testing import CliRunner

    import operators.pipeline
    from dataflow_assets.cli import app

    def refuse(self):
        raise AssertionError("dataflow ops traced a pipeline")

    monkeypatch.setattr(operators.pipeline.Pipeline, "trace", refuse)
    result = CliRunner().invoke(app, ["ops", "word_count"])
    assert result.exit_code == 0, result.output
    assert "word_count (filter, domain general)" in result.output and "min_words" in result.output
    exported = CliRunner().invoke(app, ["ops", "--json"])
    docs = json.loads(exported.output)
    assert {"name", "category", "domain", "description", "parameters", "inputs", "outputs", "engines"} <= set(docs[0])


def test_the_definitions_are_built_when_dagster_loads_them_not_on_import():
    code = (
        "import dagster as dg, dataflow_assets.compiler as c\n"
        "calls = []\n"
        "original = c.compile_pipeline\n"
        "c.compile_pipeline = lambda p: calls.append(p) or original(p)\n"
        "import dataflow_assets.definitions as d\n"
        "assert calls == [], calls\n"
        "print(type(d.defs).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
