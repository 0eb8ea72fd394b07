"""Materialize a pipeline in-process: what ``dataflow run`` and ``dataflow backfill``, the tests and the benchmarks
call.

The request becomes the runs ``dataflow_assets.planning`` plans (one in the usual case), executed one after
another in this process and recorded in the given Dagster instance, so that the UI shows them.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from dataflow_assets.compiler import IO_MANAGER_KEY, CompiledPipeline, compile_pipeline
from dataflow_assets.partitions import register_new_files
from dataflow_assets.planning import plan_runs
from operators.errors import DataflowError
from operators.pipeline import Pipeline, TracedPipeline
from resources.delta_io import DeltaIOManager
from resources.engines import engine_resources

PID_TAG = "dataflow/pid"
HOST_TAG = "dataflow/host"
"""Tags on every run this module starts: the process that runs it, so that a killed run can be told apart."""

EventCallback = Callable[[str, str], None]
"""Called with (event type, step key) for every Dagster event of the run, e.g. ("STEP_START", "demo__raw")."""


@dataclass(frozen=True)
class StepSummary:
    asset: str
    rows_in: int | None
    rows_out: int
    removed_by_reason: dict[str, int]
    delta_version: int
    uri: str


@dataclass(frozen=True)
class RunSummary:
    run_ids: list[str]
    steps: list[StepSummary]
    checks: dict[str, bool]
    """``"group/step:check"`` -> passed, for every asset check that ran."""


def materialize_pipeline(
    pipeline: Pipeline | TracedPipeline,
    *,
    root: Path | str,
    instance: dg.DagsterInstance,
    partitions: list[str] | None = None,
    resume: bool = False,
    tags: Mapping[str, str] | None = None,
    on_event: EventCallback | None = None,
    target_file_size: int | None = None,
    resources: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Materialize every step of ``pipeline`` for ``partitions`` (default all), or with ``resume`` only the steps
    and partitions that are missing or stale, and summarize each step (see ``dataflow_assets.planning``).

    A dynamic source's new files are registered as partitions first. A step failure raises the step's own error (a
    :class:`DataflowError` where it is one), not Dagster's wrapper.
    ``resources`` gives the engines LLM steps use (default: from the environment, see ``dataflow_assets.engines``).
    """
    traced = pipeline.trace() if isinstance(pipeline, Pipeline) else pipeline
    compiled = compile_pipeline(traced)
    register_new_files(instance, compiled.sources)
    job = _pipeline_job(compiled, root, target_file_size, resources, on_event)
    _fail_orphaned_runs(instance, job.name)
    steps: dict[str, StepSummary] = {}
    checks: dict[str, bool] = {}
    run_ids: list[str] = []
    ours = {**(tags or {}), PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    for planned in plan_runs(compiled, instance, partitions, resume=resume):
        result = job.execute_in_process(
            run_config={"loggers": {"progress": {}}},
            instance=instance,
            tags={**planned.tags, **ours},
            asset_selection=list(planned.assets),
            raise_on_error=False,
        )
        run_ids.append(result.run_id)
        for evaluation in result.get_asset_check_evaluations():
            checks[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = evaluation.passed
        if not result.success:
            _raise_failure(result)
        # A run over a partition range records one materialization per partition, all with the step's metadata.
        per_step = {
            event.step_materialization_data.materialization.asset_key.to_user_string(): (
                event.step_materialization_data.materialization
            )
            for event in result.get_asset_materialization_events()
        }
        for asset, materialization in per_step.items():
            steps[asset] = _merge(steps.get(asset), materialization)
    ordered = [steps[f"{traced.group}/{name}"] for name in traced.nodes if f"{traced.group}/{name}" in steps]
    return RunSummary(run_ids=run_ids, steps=ordered, checks=checks)


def _pipeline_job(
    compiled: CompiledPipeline,
    root: Path | str,
    target_file_size: int | None,
    resources: Mapping[str, Any] | None,
    on_event: EventCallback | None,
) -> dg.JobDefinition:
    job_name = f"{compiled.group}_pipeline"
    defs = dg.Definitions(
        assets=compiled.assets,
        asset_checks=compiled.checks,
        jobs=[dg.define_asset_job(job_name, selection=dg.AssetSelection.groups(compiled.group))],
        resources={
            IO_MANAGER_KEY: DeltaIOManager.from_environment(root, target_file_size=target_file_size),
            **(resources if resources is not None else engine_resources(root)),
        },
        loggers={"progress": _progress_logger(on_event)},
    )
    return defs.resolve_job_def(job_name)


def _fail_orphaned_runs(instance: dg.DagsterInstance, job_name: str) -> None:
    """A run whose process was killed stays "started" in the instance for ever; mark such runs of this machine
    failed, so that the UI and the resume plan see what happened."""
    started = instance.get_runs(
        filters=dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    )
    for run in started:
        pid = run.tags.get(PID_TAG)
        if pid and run.tags.get(HOST_TAG) == socket.gethostname() and not _process_alive(int(pid)):
            instance.report_run_failed(run, f"the process running it (pid {pid}) ended before the run finished")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_instance(home: Path | str) -> dg.DagsterInstance:
    """A persistent Dagster instance in ``home`` (created if needed) with telemetry off: nothing leaves the machine."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def _merge(previous: StepSummary | None, materialization: dg.AssetMaterialization) -> StepSummary:
    """Add up a step's numbers over the runs of several partition ranges."""
    metadata = {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}
    removed = dict(metadata.get("dataflow/rejected_by_reason") or metadata.get("dataflow/quarantined_by_reason") or {})
    current = StepSummary(
        asset=materialization.asset_key.to_user_string(),
        rows_in=metadata.get("dataflow/rows_in"),
        rows_out=metadata.get("dagster/row_count", 0),
        removed_by_reason=removed,
        delta_version=metadata.get("dataflow/delta_version", -1),
        uri=metadata.get("dagster/uri", ""),
    )
    if previous is None:
        return current
    reasons = dict(previous.removed_by_reason)
    for reason, count in removed.items():
        reasons[reason] = reasons.get(reason, 0) + count
    return StepSummary(
        asset=current.asset,
        rows_in=(previous.rows_in or 0) + (current.rows_in or 0),
        rows_out=previous.rows_out + current.rows_out,
        removed_by_reason=reasons,
        delta_version=current.delta_version,
        uri=current.uri,
    )


def _raise_failure(result: dg.ExecuteInProcessResult) -> None:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            cause = error.cause if error is not None and error.cause is not None else error
            message = cause.message.strip() if cause else "unknown error"
            raise DataflowError(f"step {event.step_key} failed: {message}", hint=f"run id {result.run_id}")
    raise DataflowError(f"run {result.run_id} failed", hint="open the run in the Dagster UI for details")


def _progress_logger(on_event: EventCallback | None) -> dg.LoggerDefinition:
    """A Dagster logger that forwards events to ``on_event`` and prints nothing (the CLI draws progress)."""

    class Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event: Any = getattr(record, "dagster_event", None)
            if on_event is not None and event is not None:
                on_event(event.event_type_value, event.step_key or "")

    @dg.logger
    def progress(_init_context) -> logging.Logger:
        forward = logging.Logger("dataflow.progress", level=logging.DEBUG)
        forward.addHandler(Forward())
        return forward

    return progress
