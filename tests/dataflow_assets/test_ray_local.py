"""The default ``ray`` resource (``address=None``): a run with a Ray step starts a Ray of its own inside its
process, one node bounded by ``num_cpus``, writes what polars writes, and stops that Ray when the
run ends. In a module of its own: no other test's cluster may be connected while it runs."""

from __future__ import annotations

import json
import os
import time

import dagster as dg
import pytest

from dataflow_assets.runner import materialize_pipeline
from resources.ray import RayEngine
from tests.dataflow_assets.ray_pipelines import CleanPipeline, RecordCluster
from tests.dataflow_assets.test_ray_steps import SAME_METADATA, TABLES, metadata, table
from tests.resources.ray.local_cluster import running_descendants

ray = pytest.importorskip("ray", reason="Ray steps need the ray extra: pip install -e '.[ray]'")
pytestmark = pytest.mark.slow

STOP_TIMEOUT_S = 30


def test_a_run_starts_a_bounded_local_ray_and_stops_it_when_it_ends(shards, tmp_path, instance, monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # loopback only; Ray's token file is shared by every user here
    assert not ray.is_initialized(), "this test needs a process that is no Ray driver yet"
    before = set(running_descendants(os.getpid()))
    seen = tmp_path / "cluster.json"
    pipeline = CleanPipeline(shards, first=[RecordCluster(path=str(seen))])
    local = RayEngine(num_cpus=1, object_store_mb=100, rows_per_block=2)

    materialize_pipeline(pipeline, root=tmp_path / "ray", instance=instance, resources={"ray": local})

    assert json.loads(seen.read_text()) == {"cpus": 1.0, "nodes": 1}
    got = metadata(instance, ["ray_clean", "clean"])
    assert got["dataflow/ray"]["identity"] == "ray:local(num_cpus=1)"
    with dg.instance_for_test() as other:
        polars = {"ray": RayEngine(steps=[])}
        materialize_pipeline(CleanPipeline(shards), root=tmp_path / "polars", instance=other, resources=polars)
        expected = metadata(other, ["ray_clean", "clean"])
    for name in TABLES:
        assert table(tmp_path / "ray", name).equals(table(tmp_path / "polars", name)), name
    assert {k: got[k] for k in SAME_METADATA} == {k: expected[k] for k in SAME_METADATA}
    # The run's end stopped its Ray: this process is no driver, and the processes Ray started here are gone.
    assert not ray.is_initialized()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while (left := set(running_descendants(os.getpid())) - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"Ray processes still running after the run: {left}"
