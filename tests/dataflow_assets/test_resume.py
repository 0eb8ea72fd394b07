"""Resume: after a failed or killed run, only what did not finish is computed again (counted by the steps' logs and
by Dagster's materialization records)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from resumable import ResumablePipeline, calls, write_shards

from dataflow_assets.runner import local_instance, materialize_pipeline
from operators.errors import DataflowError
from resources.delta_store import DeltaStore

ALL = "a.jsonl,b.jsonl,c.jsonl"
CHILD = """
import sys
sys.path.insert(0, sys.argv[4])
from resumable import ResumablePipeline
from dataflow_assets.runner import local_instance, materialize_pipeline
shards, work, home = sys.argv[1:4]
materialize_pipeline(ResumablePipeline(shards, work), root=f"{work}/delta", instance=local_instance(home))
"""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_shards(tmp_path / "shards")
    return tmp_path


def run(work: Path, instance: dg.DagsterInstance, **options):
    pipeline = ResumablePipeline(work / "shards", work, suffix=options.pop("suffix", ""))
    return materialize_pipeline(pipeline, root=work / "delta", instance=instance, **options)


def materializations(instance: dg.DagsterInstance, step: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(["resumable", step]), limit=1000).records)


def final_texts(work: Path) -> list[str]:
    store = DeltaStore(work / "delta")
    return sorted(store.read(store.uri(["resumable", "dedup"])).frame["text"])


EXPECTED = sorted(["ALPHA ONE", "ALPHA TWO", "BETA ONE", "BETA TWO", "BETA THREE", "GAMMA ONE"])


def test_after_a_failing_step_resume_computes_only_that_step_and_what_follows(work, instance):
    (work / "fail.json").write_text(json.dumps(["a.jsonl"]))
    with pytest.raises(DataflowError, match="planted failure"):
        run(work, instance)
    assert calls(work, "first") == [ALL] and calls(work, "second") == [ALL] and calls(work, "third") == []

    (work / "fail.json").unlink()
    summary = run(work, instance, resume=True)

    assert calls(work, "first") == [ALL]  # done before the failure: not computed again
    assert calls(work, "second") == [ALL, ALL]
    assert calls(work, "third") == [ALL]
    assert [s.asset for s in summary.steps] == ["resumable/second", "resumable/third", "resumable/dedup"]
    assert materializations(instance, "raw") == 3  # one per partition, all from the first run
    assert final_texts(work) == EXPECTED

    again = run(work, instance, resume=True)
    assert again.run_ids == [] and calls(work, "second") == [ALL, ALL]


def test_partitions_that_finished_are_not_computed_again(work, instance):
    (work / "fail.json").write_text(json.dumps(["c.jsonl"]))
    for partition in ("a.jsonl", "b.jsonl"):
        run(work, instance, partitions=[partition])
    with pytest.raises(DataflowError, match=r"planted failure on \['c.jsonl'\]"):
        run(work, instance, partitions=["c.jsonl"])

    (work / "fail.json").unlink()
    run(work, instance, resume=True)

    assert calls(work, "first") == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert calls(work, "second") == ["a.jsonl", "b.jsonl", "c.jsonl", "c.jsonl"]
    assert calls(work, "third") == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert final_texts(work) == EXPECTED


def test_a_changed_parameter_recomputes_that_step_and_the_steps_after_it(work, instance):
    run(work, instance)
    summary = run(work, instance, resume=True, suffix="-changed")
    assert [s.asset for s in summary.steps] == ["resumable/third", "resumable/dedup"]
    assert calls(work, "first") == [ALL] and calls(work, "third-changed") == [ALL]


def test_a_killed_run_is_marked_failed_and_resumed_where_it_stopped(work):
    home = work / "dagster_home"
    (work / "hold").touch()  # the child's `second` step waits on this file: kill it there
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(work / "shards"), str(work), str(home), str(Path(__file__).parent)],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not calls(work, "second") and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
        assert calls(work, "second") == [ALL], "the child never reached the step it was to be killed in"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    (work / "hold").unlink()

    instance = local_instance(home)
    (killed,) = instance.get_runs()
    assert killed.status == dg.DagsterRunStatus.STARTED  # nobody was left to record the end
    store = DeltaStore(work / "delta")
    first = store.read(store.uri(["resumable", "first"])).frame
    assert first.height == 7 and not store.exists(store.uri(["resumable", "second"]))

    summary = run(work, instance, resume=True)

    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert calls(work, "first") == [ALL]  # finished before the kill: not computed again
    assert calls(work, "second") == [ALL, ALL]
    assert summary.steps[0].asset == "resumable/second"
    assert final_texts(work) == EXPECTED
    assert store.read(store.uri(["resumable", "first"])).frame.sort("_row_id").equals(first.sort("_row_id"))
