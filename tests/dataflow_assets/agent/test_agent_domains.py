"""Domain requests end to end with a scripted planner: the agent offers the operators whose engines it can build
(the SQL domain's database from ``DATAFLOW_SQL_DATABASES``, the code sandbox), the dry run runs them in the
bubblewrap sandbox with those engines, and the module compiles into assets that the definitions' resources run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dataflow_assets.agent.api import build_pipeline
from dataflow_assets.agent.dryrun import sandbox_problem
from dataflow_assets.agent.validate import load_module, pipeline_class
from dataflow_assets.runner import materialize_pipeline
from tests.dataflow_assets.agent.conftest import planner
from tests.support import ScriptedLLM

QUERIES = [
    {"question": "How many students are there?", "sql": "SELECT COUNT(*) FROM students", "db_id": "school"},
    {"question": "Who lives in Oslo?", "sql": "SELECT name FROM students WHERE city = 'Oslo'", "db_id": "school"},
    {"question": "Who is the oldest?", "sql": "SELEC name FROM students", "db_id": "school"},
    {"question": "Remove Ben.", "sql": "DELETE FROM students WHERE name = 'Ben'", "db_id": "school"},
]


@pytest.fixture(scope="module")
def sandboxed() -> None:
    problem = sandbox_problem()
    if problem is not None:
        pytest.skip(f"no bubblewrap sandbox here: {problem}")


def rows_folder(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "part-1.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


@pytest.fixture
def school(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "school.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE students (student_id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        connection.executemany("INSERT INTO students VALUES (?, ?, ?)", [(1, "Ana", "Lisbon"), (2, "Ben", "Oslo")])
    connection.close()
    monkeypatch.setenv("DATAFLOW_SQL_DATABASES", json.dumps({"school": f"sqlite:///{path}"}))
    monkeypatch.delenv("DATAFLOW_CLASSIFIER_MODEL", raising=False)
    return path


def test_a_sql_request_is_dry_run_in_the_sandbox_on_the_configured_database_and_materialized(
    sandboxed, tmp_path, school, instance
):
    steps = [
        {
            "operator": "sql_executable",
            "why": "keep the queries that run",
            "fill": {"input_sql_key": "sql", "input_db_id_key": "db_id"},
        },
        {"operator": "sql_schema", "why": "attach the schema", "fill": {"input_db_id_key": "db_id"}},
    ]
    report = build_pipeline(
        "keep the queries that run and attach the schema",
        input=rows_folder(tmp_path, "queries", QUERIES),
        name="school_sql",
        llm=ScriptedLLM(planner(steps)),
        out=tmp_path / "out",
    )
    assert report.ok, report.to_markdown()
    assert report.dry_run["isolation"].startswith("sandbox[bwrap]")
    counts = [(s["step"], s["rows_in"], s["rows_out"], s["rejected"]) for s in report.dry_run["steps"]]
    assert counts == [
        ("raw", 4, 4, {}),
        ("sql_executable", 4, 2, {"sql_syntax_error": 1, "sql_not_read_only": 1}),
        ("sql_schema", 2, 2, {}),
    ]
    assert report.engines["usable"]["database"].startswith("school=sqlite:")
    assert "classifier_score (classifier)" in report.to_markdown()
    assert "sandbox[bwrap]" in report.to_markdown()

    pipeline = pipeline_class(load_module(Path(report.module)))()
    summary = materialize_pipeline(pipeline, root=tmp_path / "delta", instance=instance)  # the definitions' engines
    assert [(s.asset, s.rows_out) for s in summary.steps] == [
        ("school_sql/raw", 4),
        ("school_sql/sql_executable", 2),
        ("school_sql/sql_schema", 2),
    ]
    with sqlite3.connect(school) as connection:  # read-only all along: the DELETE never ran
        assert connection.execute("SELECT COUNT(*) FROM students").fetchone() == (2,)
    connection.close()


def test_a_code_request_runs_its_tests_with_the_sandbox_engine_inside_the_sandboxed_dry_run(sandboxed, tmp_path):
    snippets = [
        {"code": "def add(a, b):\n    return a + b\n", "tests": "assert add(2, 3) == 5\n"},
        {"code": "def add(a, b):\n    return a - b\n", "tests": "assert add(2, 3) == 5\n"},
        {"code": "import sys\nprint('All tests passed')\nsys.exit(0)\n", "tests": "assert False\n"},
    ]
    steps = [
        {
            "operator": "code_execution",
            "why": "tests pass",
            "fill": {"input_code_key": "code", "input_test_key": "tests"},
        }
    ]
    report = build_pipeline(
        "keep the snippets whose tests pass",
        input=rows_folder(tmp_path, "snippets", snippets),
        name="passing_code",
        llm=ScriptedLLM(planner(steps)),
        out=tmp_path / "out",
    )
    assert report.ok, report.to_markdown()
    assert report.dry_run["isolation"].startswith("sandbox[bwrap]")
    assert report.dry_run["steps"][-1] == {
        "step": "code_execution",
        "rows_in": 3,
        "rows_out": 1,
        "rejected": {"sandbox_failed": 2},
    }
