"""The documented PostgreSQL instance (docs/dagster-postgres.yaml) serves concurrent runs: two processes started
at the same moment materialize two partitions of one pipeline; both runs succeed and are recorded, and each
partition's rows are exactly what its shard gives.

Needs PostgreSQL (127.0.0.1:5432 unless the DAGSTER_PG_* variables say otherwise); each test gets a database of its
own, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import psycopg2
import pytest
from dagster_postgres import PostgresRunStorage
from postgres_pipeline import SHARDS, kept_texts, write_shards

from operators.columns import PARTITION, REJECT_RULE
from resources.delta_store import DeltaStore

pytestmark = pytest.mark.services

DOCUMENTED_CONFIG = Path(__file__).parents[2] / "docs" / "dagster-postgres.yaml"
CHILD = Path(__file__).with_name("postgres_pipeline.py")
SERVER = {
    "DAGSTER_PG_HOST": "127.0.0.1",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USERNAME": "postgres",
    "DAGSTER_PG_PASSWORD": "",
}
"""The variables the documented config reads, with this machine's values for those not set."""
STEPS = ("raw", "normalize", "long_enough")


@pytest.fixture
def postgres_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DAGSTER_HOME holding the documented dagster.yaml, pointed at a new database."""
    server = {name: os.environ.get(name, default) for name, default in SERVER.items()}
    try:
        admin = psycopg2.connect(
            host=server["DAGSTER_PG_HOST"],
            port=server["DAGSTER_PG_PORT"],
            user=server["DAGSTER_PG_USERNAME"],
            password=server["DAGSTER_PG_PASSWORD"],
            dbname=os.environ.get("DAGSTER_PG_DB", "test"),
            connect_timeout=5,
        )
    except psycopg2.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {server['DAGSTER_PG_HOST']}:{server['DAGSTER_PG_PORT']}: {error}")
    admin.autocommit = True
    database = f"dataflow_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DOCUMENTED_CONFIG, home / "dagster.yaml")
    for name, value in {**server, "DAGSTER_PG_DB": database, "DAGSTER_HOME": str(home)}.items():
        monkeypatch.setenv(name, value)
    try:
        yield home
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        admin.close()


def run_at_once(shards: Path, root: Path, partitions: list[str]) -> list[tuple[int, str, str]]:
    """One child process per partition; once every child has started (imports, instance), all are released at the
    same moment. Returns each child's exit code, stdout and stderr."""
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), str(shards), str(root), partition],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for partition in partitions
    ]
    try:
        for child in children:
            if child.stdout.readline() != "ready\n":
                pytest.fail(f"a child did not start:\n{child.communicate()[1][-3000:]}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=300) for child in children]
        return [(child.returncode, *output) for child, output in zip(children, outputs, strict=True)]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def test_two_runs_on_different_partitions_at_once_both_succeed(postgres_home: Path, tmp_path: Path):
    shards, root = tmp_path / "shards", tmp_path / "delta"
    write_shards(shards)
    written, left_out = ["a.jsonl", "b.jsonl"], "c.jsonl"
    assert sorted(SHARDS) == [*written, left_out]

    # Opening the instance creates Dagster's tables, as the documented `dagster instance migrate` does.
    with dg.DagsterInstance.from_config(str(postgres_home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        outputs = run_at_once(shards, root, written)
        for code, _, stderr in outputs:
            assert code == 0, stderr[-3000:]

        run_ids = [run_id for _, stdout, _ in outputs for run_id in json.loads(stdout.splitlines()[-1])]
        assert len(run_ids) == 2
        assert {run.run_id: run.status for run in instance.get_runs()} == dict.fromkeys(
            run_ids, dg.DagsterRunStatus.SUCCESS
        )
        for step in STEPS:
            assert instance.get_materialized_partitions(dg.AssetKey(["concurrent", step])) == set(written)

    store = DeltaStore(root)
    raw = store.read(store.uri(["concurrent", "raw"])).frame
    kept = store.read(store.uri(["concurrent", "long_enough"])).frame
    rejected = store.read(store.uri(["concurrent", "long_enough"], "rejected")).frame
    for partition in written:
        in_partition = pl.col(PARTITION) == partition
        assert raw.filter(in_partition).height == len(SHARDS[partition])
        assert sorted(kept.filter(in_partition)["text"]) == kept_texts(partition)
        assert rejected.filter(in_partition)[REJECT_RULE].to_list() == ["word_count_too_short"] * (
            len(SHARDS[partition]) - len(kept_texts(partition))
        )
    for step in STEPS:
        assert set(store.read(store.uri(["concurrent", step])).frame[PARTITION]) == set(written)
