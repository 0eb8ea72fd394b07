"""A Ray step as a Ray job, for long runs: the work runs on the cluster, Dagster follows it through Pipes.

With ``RayEngine.job_address`` set, the step's process is no Ray driver: it submits the step through the cluster's
job API (the dashboard) with the project's code and the step's work (``resources.ray.job_payload``), and the job's
driver (``resources.ray.job_entrypoint``) runs the same ``run_on_ray`` on the cluster, its workers writing the
output's files. The job's Pipes messages come back in its log (dagster-ray's ``PipesRayJobMessageReader``): its log
lines go to the run's event log, and its staged result to this process, where the IO manager commits it as it
commits an in-process Ray step's, with the same commit metadata. The commit stays in the process Dagster follows, so
that Delta never holds a commit Dagster did not record: a job whose run died or was cancelled (the job is then
stopped) leaves only uncommitted files, which ``DeltaTable.vacuum`` removes.
"""

from __future__ import annotations

import contextlib
import time
import uuid
import warnings
from dataclasses import replace
from typing import Any

import dagster as dg

from operators.errors import DataflowError, MissingDependencyError
from resources.ray.batches import worker_engine
from resources.ray.execute import RayRun, RayStep, step_modules
from resources.ray.job_payload import WORK_EXTRA, JobWork, encode, error_from, result_from
from resources.ray.resource import RayEngine

ENTRYPOINT = "python -m resources.ray.job_entrypoint"
"""Run by the ``python`` on the head node's path: the cluster's environment, with the project's dependencies."""
POLL_S = 1.0
ERROR_TAIL_CHARS = 3_000


def run_as_job(context: dg.AssetExecutionContext, ray_engine: RayEngine, work: RayStep) -> RayRun:
    """Run ``work``'s step as a Ray job at ``ray_engine.job_address``; what ``run_on_ray`` would return."""
    reader_class, client_class, succeeded = _job_api()
    client = client_class(ray_engine.job_address)
    payload = JobWork(
        engine={name: getattr(ray_engine, name) for name in type(ray_engine).model_fields},
        work=replace(work, engines={}),
        engines={name: worker_engine(engine, 1) for name, engine in work.engines.items()},
    )
    asset_path = work.asset_path
    name = "/".join(asset_path)
    job_id = f"dataflow-{'-'.join(asset_path)}-{uuid.uuid4().hex[:8]}"
    logs = f"ray job logs --address {ray_engine.job_address} {job_id}"
    runtime_env = ray_engine.runtime_env(step_modules(work.step))
    # Dagster 1.13 warns in every Pipes session that it reads a preview property of its own message readers.
    with (
        warnings.catch_warnings(action="ignore", category=dg.PreviewWarning),
        dg.open_pipes_session(
            context=context,
            message_reader=reader_class(),  # one per job: it follows that job's log
            context_injector=dg.PipesEnvContextInjector(),
            extras={WORK_EXTRA: encode(payload)},
        ) as session,
    ):
        runtime_env["env_vars"].update(session.get_bootstrap_env_vars())
        client.submit_job(
            entrypoint=ENTRYPOINT,
            runtime_env=runtime_env,
            submission_id=job_id,
            metadata={"dagster_run_id": context.run_id, "dagster_asset": name},
        )
        context.log.info(f"{name}: submitted as Ray job {job_id}; its log: {logs}")
        session.report_launched({"extras": {"ray_job_id": job_id, "ray_address": client.get_address()}})
        try:
            status = _wait(client, job_id)
        except BaseException:
            # Interrupted (the run cancelled) or lost sight of the job: nobody would commit its result, so stop it.
            context.log.warning(f"{name}: stopping Ray job {job_id}")
            with contextlib.suppress(Exception):
                client.stop_job(job_id)
            raise
    messages = list(session.get_custom_messages())
    run = result_from(messages)
    if status != succeeded or run is None:
        error = error_from(messages) or (client.get_job_info(job_id).message or "")[-ERROR_TAIL_CHARS:]
        raise DataflowError(f"{name}: Ray job {job_id} {str(status).lower()}: {error}", hint=f"its whole log: {logs}")
    return replace(run, stats={**run.stats, "job": job_id})


def _wait(client: Any, job_id: str) -> Any:
    while not (status := client.get_job_status(job_id)).is_terminal():
        time.sleep(POLL_S)
    return status


def _job_api() -> tuple[type, type, Any]:
    try:
        from dagster_ray.core.pipes import PipesRayJobMessageReader
        from ray.job_submission import JobStatus, JobSubmissionClient
    except ImportError as error:
        raise MissingDependencyError(
            "Ray jobs need dagster-ray and Ray's job client (ray[default])", hint="pip install -e '.[ray]'"
        ) from error
    return PipesRayJobMessageReader, JobSubmissionClient, JobStatus.SUCCEEDED
