"""One partition, three ways: how long a user waits for one shard of the ``demo`` group to be materialized.

* ``cli in-process``: ``dataflow run demo -p <shard>`` as the CLI does it (``materialize_pipeline``: every step in
  this process; the run also recomputes the group's two fan-in steps, which read every partition);
* ``ui, in_process executor``: the group's three partitioned steps for the shard, launched over GraphQL on a running
  ``dataflow ui`` (the default, ``DATAFLOW_EXECUTOR=in_process``: the daemon starts one run worker for the run);
* ``ui, multiprocess executor``: the same run on a ``dataflow ui`` started with ``DATAFLOW_EXECUTOR=multiprocess``,
  Dagster's own default, a process per step.

For the UI variants the wall time runs from the launch request to the run's success as GraphQL reports it
(queueing, the run worker's start, loading the code, the steps), and Dagster's own start-to-end time of the run is
reported beside it. Variants alternate within each repetition; medians of ``--repeat``.

Run: ``.venv/bin/python benchmarks/run_modes.py [--repeat 3]``; results go to ``benchmarks/results/run_modes.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "run_modes"
RESULTS = HERE / "results" / "run_modes.md"
SHARD = "shard-001.jsonl"
PARTITIONED = [["demo", "raw"], ["demo", "normalize"], ["demo", "quality"]]
EXECUTORS = ("in_process", "multiprocess")
TIMEOUT_S = 600

sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable
sys.path.insert(0, str(ROOT / "tests" / "ui"))  # the UI process helper shared with the UI test

from dagster_ui import DataflowUI  # noqa: E402

from dataflow_assets.definitions import EXECUTOR_ENV  # noqa: E402
from dataflow_assets.general.demo import DemoPipeline  # noqa: E402
from dataflow_assets.graphql_client import DagsterGraphQL  # noqa: E402
from dataflow_assets.runner import local_instance, materialize_pipeline  # noqa: E402


def time_cli(home: Path, root: Path) -> float:
    start = time.monotonic()
    materialize_pipeline(DemoPipeline(), root=root, instance=local_instance(home), partitions=[SHARD])
    return time.monotonic() - start


def time_ui(client: DagsterGraphQL, home: Path) -> tuple[float, float]:
    """Wall seconds from the launch request to success, and Dagster's own start-to-end seconds of the run."""
    start = time.monotonic()
    run_id = client.launch_materialization(PARTITIONED, partition_key=SHARD)
    status = client.wait_for_run(run_id, TIMEOUT_S)
    wall = time.monotonic() - start
    if status != "SUCCESS":
        raise SystemExit(f"run {run_id} ended {status}: {client.run_errors(run_id)}")
    record = local_instance(home).get_run_record_by_id(run_id)
    return wall, record.end_time - record.start_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median is reported")
    args = parser.parse_args()
    about = machine.describe("dagster", "polars", "deltalake")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    home, root = WORK / "dagster_home", WORK / "delta"
    local_instance(home)  # telemetry off before `dataflow ui` creates the instance
    materialize_pipeline(DemoPipeline(), root=root, instance=local_instance(home))  # warm: every table exists
    times: dict[str, list[tuple[float, float | None]]] = {"cli": [], **{e: [] for e in EXECUTORS}}
    for executor in EXECUTORS:
        ui = DataflowUI(home, root, log_path=WORK / f"dataflow-ui-{executor}.log", env={EXECUTOR_ENV: executor})
        ui.start()
        try:
            client = DagsterGraphQL(ui.url)
            client.wait_until_ready(TIMEOUT_S)
            for _ in range(args.repeat):
                times["cli"].append((time_cli(home, root), None))
                times[executor].append(time_ui(client, home))
                print(f"{executor}: {times}", file=sys.stderr)
        finally:
            ui.stop()
    RESULTS.write_text(report(times, about, args.repeat))
    print(RESULTS.read_text())


def report(times: dict[str, list[tuple[float, float | None]]], about: dict[str, object], repeat: int) -> str:
    def median(variant: str, index: int) -> float:
        return statistics.median(t[index] for t in times[variant])

    cli = median("cli", 0)
    load_now = " ".join(f"{x:.2f}" for x in os.getloadavg())
    load = " ".join(f"{x:.2f}" for x in about["load_average_1_5_15_min"])
    rows = [
        f"| `dataflow run demo -p {SHARD}` (in-process, 5 steps) | {cli:.1f} | — | 1.00x |",
        *(
            f"| UI, `{executor}` executor (3 partitioned steps) | {median(executor, 0):.1f} | "
            f"{median(executor, 1):.1f} | {median(executor, 0) / cli:.2f}x |"
            for executor in EXECUTORS
        ),
    ]
    return "\n".join(
        [
            "# One-partition run: in-process and with the multiprocess executor",
            "",
            f"The `demo` group, partition `{SHARD}`, all tables existing beforehand; medians of {repeat} "
            f"repetitions ({2 * repeat} for the CLI, interleaved with the UI runs). dagster {about['dagster']}, "
            f"polars {about['polars']}, deltalake {about['deltalake']}; "
            f"Python {about['python']}, {about['cpu_model']}, {about['nproc']} CPUs, shared: load average "
            f"(1, 5, 15 min) {load} at the start, {load_now} at the end. {about['date']}.",
            "",
            "| variant | wall seconds | run seconds (Dagster) | wall vs CLI |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            "Wall seconds for the UI variants run from the GraphQL launch to success: the daemon's pick-up of the "
            "queued run, the run worker's start and code loading, then the steps. The multiprocess executor starts "
            "a Python process per step, each loading the project's definitions and opening the instance; on 3 small "
            "steps that start-up is nearly all of the time, and since a pipeline is mostly a chain of steps there is "
            "little to run in parallel. Hence `DATAFLOW_EXECUTOR=in_process` is the default of `dataflow ui`.",
            "",
            f"Re-run: `.venv/bin/python benchmarks/run_modes.py [--repeat {repeat}]`.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
