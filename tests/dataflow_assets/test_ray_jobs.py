"""Ray steps submitted as Ray jobs (``RayEngine.job_address``) to a real cluster with its dashboard (one node on
127.0.0.1, 2 CPUs, a 200 MB object store, started for this module and stopped by its own process ids): the same
tables, commits and metadata as the step run with this process as the driver, the job's log lines in the run's
event log, an LLM step on the job's actor pool, a failing job as a failed step carrying the job's error, and a
cancelled run stopping its job, with nothing committed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
from deltalake import DeltaTable

from dataflow_assets.runner import materialize_pipeline
from operators.errors import DataflowError
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource
from resources.ray import RayEngine
from tests.dataflow_assets.ray_pipelines import CleanPipeline, FailOn, RewritePipeline
from tests.dataflow_assets.test_ray_steps import PROJECT, SAME_METADATA, TABLES, metadata, table
from tests.resources.llm.fault_server import FaultServer
from tests.resources.ray.local_cluster import driven_cluster

pytest.importorskip("ray", reason="Ray steps need the ray extra: pip install -e '.[ray]'")
pytest.importorskip("aiohttp", reason="Ray's dashboard and job API need ray[default]: pip install -e '.[ray]'")
pytest.importorskip("dagster_ray", reason="Ray jobs need dagster-ray: pip install -e '.[ray]'")
pytestmark = pytest.mark.slow

CLEAN = ["ray_clean", "clean"]
CANCELLED_RUN = """
import sys
from dataflow_assets.runner import local_instance, materialize_pipeline
from resources.ray import RayEngine
from tests.dataflow_assets.ray_pipelines import CleanPipeline, Sleep
shards, root, home, job_address = sys.argv[1:]
materialize_pipeline(CleanPipeline(shards, first=[Sleep(seconds=300)]), root=root, instance=local_instance(home),
                     resources={"ray": RayEngine(job_address=job_address)})
"""
"""A run whose Ray job would take minutes, in a process of its own that the test interrupts (Ctrl-C)."""
WAIT_S = 180
COMMIT_KEYS = ("dataflow.inputs", "dataflow.engines")


@pytest.fixture(scope="module")
def cluster():
    with driven_cluster(num_cpus=2, object_store_mb=200, dashboard=True) as running:
        yield running


def as_job(cluster) -> dict[str, RayEngine]:
    return {"ray": RayEngine(job_address=cluster.job_address, rows_per_block=2)}


def commits(root, name: str) -> list[dict]:
    """What each commit of a table says: the operation, the partitions it replaced, the inputs and engines it read
    (less what differs between any two runs: times, ids)."""
    history = DeltaTable(str(root / "ray_clean" / name)).history()
    return [
        {
            "operation": commit["operation"],
            "predicate": commit.get("operationParameters", {}).get("predicate"),
            **{key: commit.get(key) for key in COMMIT_KEYS},
        }
        for commit in history
    ]


def test_a_step_run_as_a_ray_job_commits_what_the_step_run_in_process_commits(cluster, shards, tmp_path, instance):
    summary = materialize_pipeline(
        CleanPipeline(shards), root=tmp_path / "job", instance=instance, resources=as_job(cluster)
    )
    with dg.instance_for_test() as local:
        in_process = {"ray": RayEngine(address=cluster.address, rows_per_block=2)}
        materialize_pipeline(CleanPipeline(shards), root=tmp_path / "driver", instance=local, resources=in_process)
        expected = metadata(local, CLEAN)

    for name in TABLES:
        assert table(tmp_path / "job", name).equals(table(tmp_path / "driver", name)), name
        assert commits(tmp_path / "job", name) == commits(tmp_path / "driver", name), name
    got = metadata(instance, CLEAN)
    assert {k: got[k] for k in SAME_METADATA} == {k: expected[k] for k in SAME_METADATA}
    assert got["dataflow/ray"]["tasks"] == expected["dataflow/ray"]["tasks"] == len(list(shards.glob("*.jsonl")))
    job_id = got["dataflow/ray"]["job"]
    assert job_id.startswith("dataflow-ray_clean-clean-")
    assert all(summary.checks.values()) and summary.checks
    # The commit names the Dagster run that recorded it, and lineage finds it by partition as for any step.
    store = DeltaStore(tmp_path / "job")
    uri = store.uri(CLEAN)
    (run_id,) = summary.run_ids
    assert DeltaTable(uri).history()[0]["dataflow.run_id"] == run_id
    assert store.producing_commit(uri, "shard-001.jsonl").inputs == {"ray_clean/raw": 0}
    # The job's own log lines are in the run's event log, as the Dagster process received them.
    messages = [entry.user_message for entry in instance.all_logs(run_id)]
    assert any(m.startswith(f"ray_clean/clean: submitted as Ray job {job_id}") for m in messages)
    assert any(m.startswith("ray_clean/clean: Ray job driver connected to ray:") for m in messages)
    assert any(m.startswith(f"ray_clean/clean: {got['dataflow/rows_in']} rows in, staged") for m in messages)


def test_an_llm_step_runs_as_a_job_on_an_actor_pool_and_reports_its_usage(cluster, shards, tmp_path, instance):
    server = FaultServer().start()
    try:
        llm = LLMResource(
            backend="openai", model="m", base_url=server.base_url, max_concurrency=4, cache_path=str(tmp_path / "c.db")
        )
        resources = {"ray": RayEngine(job_address=cluster.job_address, rows_per_block=2, actors=2), "llm": llm}
        materialize_pipeline(RewritePipeline(shards), root=tmp_path / "delta", instance=instance, resources=resources)
    finally:
        server.stop()

    rows = table(tmp_path / "delta", "ray_rewrite/rewrite")
    assert rows["rewritten"].to_list() == [f"echo: Rewrite: {text}" for text in rows["text"]]
    got = metadata(instance, ["ray_rewrite", "rewrite"])
    assert got["dataflow/ray"]["actors"] == 2 and got["dataflow/llm/identity"] == llm.identity
    assert got["dataflow/llm/calls"] == len(server.requests) == rows.height  # the actors' usage, added up


def test_a_failing_job_fails_the_step_with_the_jobs_error_and_commits_nothing(cluster, shards, tmp_path, instance):
    from ray.job_submission import JobStatus, JobSubmissionClient

    pipeline = CleanPipeline(shards, first=[FailOn(partition="shard-002.jsonl")])
    with pytest.raises(DataflowError) as failed:
        materialize_pipeline(pipeline, root=tmp_path / "delta", instance=instance, resources=as_job(cluster))

    # The step's own error, out of Ray's wrappers, named with the job whose log holds its traceback.
    said = re.search(r"Ray job (dataflow-ray_clean-clean-\w+) failed: (.*)\n", str(failed.value))
    assert said and said.group(2) == "DataflowError: FailOn refuses partition 'shard-002.jsonl'"
    job_id = said.group(1)
    assert f"ray job logs --address {cluster.job_address} {job_id}" in str(failed.value)
    assert JobSubmissionClient(cluster.job_address).get_job_status(job_id) == JobStatus.FAILED
    assert instance.get_latest_materialization_event(dg.AssetKey(CLEAN)) is None
    assert not DeltaTable.is_deltatable(str(tmp_path / "delta" / "ray_clean" / "clean"))
    # The event log holds the step's failure with the job's error, and the error the job reported through Pipes.
    (run,) = instance.get_runs()
    events = [entry.dagster_event for entry in instance.all_logs(run.run_id) if entry.dagster_event is not None]
    failure = next(e for e in events if e.is_step_failure)
    assert "FailOn refuses partition" in failure.step_failure_data.error.to_string()
    reported = [e for e in events if e.is_engine_event and "closed with exception" in e.message]
    assert reported and "FailOn refuses partition" in reported[0].engine_event_data.error.to_string()


def test_a_cancelled_run_stops_its_job_and_commits_nothing(cluster, shards, tmp_path):
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(cluster.job_address)
    earlier = {job.submission_id for job in client.list_jobs()}
    arguments = [str(shards), str(tmp_path / "delta"), str(tmp_path / "home"), cluster.job_address]
    log = tmp_path / "run.log"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    run = subprocess.Popen(
        [sys.executable, "-c", CANCELLED_RUN, *arguments],
        cwd=PROJECT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        job = wait_for(lambda: next((j for j in client.list_jobs() if j.submission_id not in earlier), None))
        wait_for(lambda: client.get_job_status(job.submission_id) == JobStatus.RUNNING)
        run.send_signal(signal.SIGINT)  # what Dagster sends a run it cancels
        assert run.wait(timeout=WAIT_S) != 0
    finally:
        run.kill()
    assert wait_for(lambda: client.get_job_status(job.submission_id).is_terminal())
    assert client.get_job_status(job.submission_id) == JobStatus.STOPPED, log.read_text()[-3000:]
    assert not DeltaTable.is_deltatable(str(tmp_path / "delta" / "ray_clean" / "clean"))


def wait_for(found, timeout_s: float = WAIT_S):
    """``found()`` once it is truthy, polled until ``timeout_s`` (then the test fails)."""
    deadline = time.monotonic() + timeout_s
    while not (value := found()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s"
        time.sleep(0.5)
    return value
