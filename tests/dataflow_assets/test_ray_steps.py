"""Steps on a real Ray cluster (one node on 127.0.0.1, 2 CPUs, a 200 MB object store, started for this module and
stopped by its own process ids): the same tables, metadata and checks as on polars, partitions committed by
concurrent runs, a worker killed mid-step, and an LLM step on an actor pool with its limits split and its cache
reused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from deltalake import DeltaTable

from dataflow_assets.runner import materialize_pipeline
from operators.columns import PARTITION, ROW_ID
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource
from resources.ray import RayEngine
from tests.dataflow_assets.ray_pipelines import CleanPipeline, KillOnce, RewritePipeline
from tests.resources.llm.fault_server import FaultServer
from tests.resources.ray.local_cluster import LocalRayCluster, driven_cluster
from tests.support import parquet_codecs

ray = pytest.importorskip("ray", reason="the Ray steps need the ray extra: pip install -e '.[ray]'")
pytestmark = pytest.mark.slow

RUN = """
import sys
from dataflow_assets.runner import local_instance, materialize_pipeline
from resources.ray import RayEngine
from tests.dataflow_assets.ray_pipelines import CleanPipeline
shards, root, home, address, key = sys.argv[1:]
ray = RayEngine(address=address, rows_per_block=2)  # connects for the run, and disconnects after it
materialize_pipeline(CleanPipeline(shards), root=root, instance=local_instance(home), partitions=[key],
                     resources={"ray": ray})
"""
"""One run of one partition, in a process of its own."""
RUN_TIMEOUT_S = 300
PROJECT = Path(__file__).parents[2]
TABLES = ("clean", "clean.rejected", "clean.scores")
"""The Ray step's table and its side tables."""
SAME_METADATA = ("dagster/row_count", "dagster/column_schema", "dataflow/rejected_by_reason", "dataflow/facts")


@pytest.fixture(scope="module")
def cluster():
    with driven_cluster(num_cpus=2, object_store_mb=200) as running:
        yield running


def on_ray(cluster: LocalRayCluster, **options) -> dict[str, RayEngine]:
    return {"ray": RayEngine(address=cluster.address, rows_per_block=2, **options)}


def table(root: Path, name: str) -> pl.DataFrame:
    group, step = ("ray_clean", name) if "/" not in name else name.split("/")
    return pl.read_delta(str(root / group / step)).sort(ROW_ID)


def metadata(instance: dg.DagsterInstance, key: list[str]) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


def test_a_ray_step_writes_what_polars_writes_with_the_same_metadata(cluster, shards, tmp_path, instance):
    summary = materialize_pipeline(
        CleanPipeline(shards), root=tmp_path / "ray", instance=instance, resources=on_ray(cluster)
    )
    with dg.instance_for_test() as local:
        # The same pipeline with the resource's steps emptied in the run config: everything on polars.
        materialize_pipeline(
            CleanPipeline(shards), root=tmp_path / "polars", instance=local, resources={"ray": RayEngine(steps=[])}
        )
        expected = metadata(local, ["ray_clean", "clean"])

    for name in TABLES:
        assert table(tmp_path / "ray", name).equals(table(tmp_path / "polars", name)), name
        codecs = [parquet_codecs(str(tmp_path / run / "ray_clean" / name)) for run in ("ray", "polars")]
        assert codecs == [{"SNAPPY"}, {"SNAPPY"}], name  # the step's output and its side tables are kept
    got = metadata(instance, ["ray_clean", "clean"])
    assert {k: got[k] for k in SAME_METADATA} == {k: expected[k] for k in SAME_METADATA}
    assert (got["dataflow/ray"]["tasks"], got["dataflow/ray"]["actors"]) == (len(list(shards.glob("*.jsonl"))), 0)
    assert "dataflow/ray" not in expected
    assert all(summary.checks.values()) and summary.checks
    # One commit per table for the whole run, carrying the inputs it read, found by partition for lineage.
    store = DeltaStore(tmp_path / "ray")
    uri = store.uri(["ray_clean", "clean"])
    assert DeltaTable(uri).version() == 0
    for key in table(tmp_path / "ray", "clean")[PARTITION].unique():
        assert store.producing_commit(uri, key).inputs == {"ray_clean/raw": 0}


def test_two_concurrent_runs_commit_their_own_partitions(cluster, shards, tmp_path):
    """Two runs are two processes (Dagster's in-process runs cannot share one), each its own Ray driver."""
    keys = sorted(p.name for p in shards.glob("*.jsonl"))[:2]
    root = tmp_path / "delta"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    logs = [tmp_path / f"{key}.log" for key in keys]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN, str(shards), str(root), str(tmp_path / f"home-{key}"), cluster.address, key],
            cwd=PROJECT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for key, log in zip(keys, logs, strict=True)
    ]
    for process, log in zip(runs, logs, strict=True):
        assert process.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()[-3000:]

    expected = CleanPipeline(shards).run()["clean"]
    for name, frame in (("clean", expected.kept), ("clean.rejected", expected.rejected)):
        written = table(root, name)
        assert written.equals(frame.filter(pl.col(PARTITION).is_in(keys)).sort(ROW_ID).select(written.columns))
    # One commit per run (the first one creates the table), each replacing its own partition.
    commits = DeltaTable(str(root / "ray_clean" / "clean")).history()
    assert sorted(c["operationParameters"]["predicate"] for c in commits) == [f"_partition IN ('{k}')" for k in keys]


def test_a_worker_killed_mid_step_is_replaced_and_no_row_is_lost_or_doubled(cluster, shards, tmp_path, instance):
    marker = tmp_path / "killed"
    victim = sorted(p.name for p in shards.glob("*.jsonl"))[1]
    pipeline = CleanPipeline(shards, first=[KillOnce(marker=str(marker), partition=victim)])

    summary = materialize_pipeline(pipeline, root=tmp_path / "delta", instance=instance, resources=on_ray(cluster))

    assert marker.exists() and not Path(f"/proc/{marker.read_text()}").exists()  # a worker did die
    expected = CleanPipeline(shards).run()["clean"].kept
    written = table(tmp_path / "delta", "clean")
    assert written.equals(expected.sort(ROW_ID).select(written.columns))
    assert written[ROW_ID].n_unique() == written.height == summary.steps[-1].rows_out


def test_an_llm_step_runs_on_an_actor_pool_with_split_limits_and_reused_answers(cluster, shards, tmp_path, instance):
    server = FaultServer().start()
    server.latency_s = 0.05  # calls overlap, so that the concurrency limit is tested
    try:
        llm = LLMResource(
            backend="openai", model="m", base_url=server.base_url, max_concurrency=4, cache_path=str(tmp_path / "c.db")
        )
        resources = {**on_ray(cluster, actors=2), "llm": llm}
        materialize_pipeline(RewritePipeline(shards), root=tmp_path / "delta", instance=instance, resources=resources)
        rows = table(tmp_path / "delta", "ray_rewrite/rewrite")
        first = metadata(instance, ["ray_rewrite", "rewrite"])
        asked = len(server.requests)

        materialize_pipeline(RewritePipeline(shards), root=tmp_path / "delta", instance=instance, resources=resources)
        again = metadata(instance, ["ray_rewrite", "rewrite"])
    finally:
        server.stop()

    assert rows["rewritten"].to_list() == [f"echo: Rewrite: {text}" for text in rows["text"]]
    assert asked == rows.height == first["dataflow/llm/calls"]  # one call per row, none repeated by a retry
    assert server.max_in_flight <= 4  # two actors with two calls each
    assert first["dataflow/ray"]["actors"] == 2 and first["dataflow/llm/identity"] == llm.identity
    assert len(server.requests) == asked  # the second run asked nothing
    assert (again["dataflow/llm/calls"], again["dataflow/llm/cache_hits"]) == (0, rows.height)
