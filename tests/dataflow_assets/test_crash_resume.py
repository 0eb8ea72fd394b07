"""A process killed in the middle of a Delta write leaves the table readable at its previous version; a re-run
completes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from dataflow_assets.general.demo import DemoPipeline
from dataflow_assets.runner import local_instance, materialize_pipeline

CHILD = """
import sys
from dataflow_assets.general.demo import DemoPipeline
from dataflow_assets.runner import local_instance, materialize_pipeline
shards, root, home = sys.argv[1:4]
# Small data files: the write spans many files, so the kill lands before the commit.
materialize_pipeline(DemoPipeline(shards), root=root, instance=local_instance(home), target_file_size=256 * 1024)
"""


def write_big_shard(path: Path, rows: int) -> None:
    sentence = "Every row in this shard is long enough to make the Delta write take a while to finish. "
    with path.open("w") as out:
        for i in range(rows):
            out.write(json.dumps({"text": f"Document {i}. " + sentence * 4, "url": f"https://example.org/{i}"}) + "\n")


def parquet_files(table: Path) -> set[Path]:
    return set(table.rglob("*.parquet")) if table.exists() else set()


def test_killed_write_leaves_previous_version_and_rerun_completes(tmp_path):
    shards, root, home = tmp_path / "shards", tmp_path / "delta", tmp_path / "dagster_home"
    shards.mkdir()
    (shards / "shard-001.jsonl").write_text(
        json.dumps({"text": "A first small document with enough words in it."}) + "\n"
    )
    instance = local_instance(home)
    materialize_pipeline(DemoPipeline(shards), root=root, instance=instance)
    table = root / "demo" / "raw"
    before_version, before_rows = DeltaTable(str(table)).version(), pl.read_delta(str(table))

    write_big_shard(shards / "shard-001.jsonl", rows=300_000)
    files_before = parquet_files(table)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(shards), str(root), str(home)])
    try:
        deadline = time.monotonic() + 120
        while not parquet_files(table) - files_before:
            assert child.poll() is None, "the child finished before it could be killed mid-write"
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()

    assert parquet_files(table) - files_before, "a partly written data file should be left behind"
    assert DeltaTable(str(table)).version() == before_version
    assert pl.read_delta(str(table)).equals(before_rows)

    summary = materialize_pipeline(DemoPipeline(shards), root=root, instance=instance)
    assert DeltaTable(str(table)).version() == before_version + 1
    assert pl.read_delta(str(table)).height == 300_000
    assert summary.steps[-1].rows_out == 300_000
