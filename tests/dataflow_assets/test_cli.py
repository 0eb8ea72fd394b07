"""The `dataflow` command as a user runs it: run, ops, errors, ui, and Dagster's own loading of the definitions."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from dataflow_assets.cli import app
from dataflow_assets.definitions import executor
from dataflow_assets.pipelines import pipeline_names
from operators.errors import DataflowError
from resources.delta_store import DeltaStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    values = {"DAGSTER_HOME": str(tmp_path / "dagster_home"), "DATAFLOW_DATA_ROOT": str(tmp_path / "delta")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}


def dataflow(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dataflow_assets.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)


def test_run_prints_rows_per_step_and_records_runs_in_the_instance(env, tmp_path):
    result = CliRunner().invoke(app, ["run", "demo"])
    assert result.exit_code == 0, result.output
    for asset in ("demo/raw", "demo/normalize", "demo/quality", "demo/dedup", "demo/paragraphs"):
        assert asset in result.output
    assert "word_count_too_short (3)" in result.output and "exact_duplicate (2)" in result.output
    assert (tmp_path / "delta" / "demo" / "paragraphs" / "_delta_log").is_dir()
    assert (tmp_path / "dagster_home" / "storage").is_dir()

    one = CliRunner().invoke(app, ["run", "demo", "--partition", "shard-002.jsonl"])
    assert one.exit_code == 0, one.output
    assert "demo/raw" in one.output


def partition_files(root: Path, step: str, partition: str) -> set[str]:
    return {uri for uri in DeltaTable(str(root / "demo" / step)).file_uris() if f"_partition={partition}" in uri}


def test_backfill_of_a_range_rewrites_those_partitions_and_leaves_the_others_untouched(env, tmp_path):
    root = tmp_path / "delta"
    assert CliRunner().invoke(app, ["run", "demo"]).exit_code == 0
    steps, shards = ("raw", "normalize", "quality"), ("shard-001.jsonl", "shard-002.jsonl", "shard-003.jsonl")
    before = {(step, shard): partition_files(root, step, shard) for step in steps for shard in shards}
    rows_before = DeltaStore(root).read(str(root / "demo" / "quality"), ["shard-003.jsonl"]).frame

    result = CliRunner().invoke(app, ["backfill", "demo", "--from", "shard-001.jsonl", "--to", "shard-002.jsonl"])

    assert result.exit_code == 0, result.output
    assert "2 partition(s) of demo" in result.output
    for step in steps:
        assert partition_files(root, step, "shard-003.jsonl") == before[(step, "shard-003.jsonl")]
        for shard in shards[:2]:
            assert partition_files(root, step, shard).isdisjoint(before[(step, shard)])  # rewritten
    assert DeltaStore(root).read(str(root / "demo" / "quality"), ["shard-003.jsonl"]).frame.equals(rows_before)
    instance = dg.DagsterInstance.get()
    (backfill_run,) = [r for r in instance.get_runs() if "dataflow/backfill" in r.tags]
    assert backfill_run.status == dg.DagsterRunStatus.SUCCESS
    assert backfill_run.tags["dagster/asset_partition_range_end"] == "shard-002.jsonl"


def test_backfill_names_a_wrong_partition_or_range(env):
    assert CliRunner().invoke(app, ["run", "demo", "-p", "shard-001.jsonl"]).exit_code == 0
    unknown = dataflow("backfill", "demo", "-p", "shard-009.jsonl", env=env)
    assert unknown.returncode == 1 and "unknown partition 'shard-009.jsonl'" in unknown.stdout
    assert "shard-001.jsonl, shard-002.jsonl, shard-003.jsonl" in unknown.stdout
    reversed_range = dataflow("backfill", "demo", "--from", "shard-003.jsonl", "--to", "shard-001.jsonl", env=env)
    assert reversed_range.returncode == 1 and "comes after" in reversed_range.stdout
    unpartitioned = dataflow("backfill", "text_sft", env=env)
    assert unpartitioned.returncode == 1 and "'text_sft' has no partitions to backfill" in unpartitioned.stdout


def test_run_resume_after_everything_is_done_has_nothing_to_do(env):
    assert CliRunner().invoke(app, ["run", "demo"]).exit_code == 0
    result = CliRunner().invoke(app, ["run", "demo", "--resume"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output


def test_ops_lists_and_describes_operators():
    listing = CliRunner().invoke(app, ["ops"])
    assert listing.exit_code == 0
    assert "word_count" in listing.output and "split_paragraphs" in listing.output
    described = CliRunner().invoke(app, ["ops", "word_count"])
    assert "min_words" in described.output and "input_key" in described.output


def test_errors_are_one_line_and_a_hint_unless_debug(env):
    result = dataflow("run", "nope", env=env)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "error: no pipeline named 'nope'",
        f"  hint: known pipelines: {', '.join(pipeline_names())}",
    ]
    assert "Traceback" not in result.stdout + result.stderr
    debug = dataflow("--debug", "run", "nope", env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_dagster_loads_the_definitions():
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_ui_runs_execute_in_one_process_unless_the_environment_asks_for_a_process_per_step(monkeypatch):
    assert executor() is dg.in_process_executor
    monkeypatch.setenv("DATAFLOW_EXECUTOR", "multiprocess")
    assert executor() is dg.multiprocess_executor
    monkeypatch.setenv("DATAFLOW_EXECUTOR", "threads")
    with pytest.raises(DataflowError, match="DATAFLOW_EXECUTOR='threads' is not an executor"):
        executor()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ui_serves_on_localhost_and_stops_cleanly_on_ctrl_c(env):
    port = free_port()
    ui = subprocess.Popen(
        [sys.executable, "-m", "dataflow_assets.cli", "ui", "--port", str(port)],
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 150
        while True:
            assert ui.poll() is None, ui.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the UI did not come up"
                time.sleep(1)
        os.kill(ui.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground process
        assert ui.wait(timeout=60) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
