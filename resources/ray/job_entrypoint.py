"""The driver of a Ray step submitted as a Ray job (``resources.ray.jobs``): ``python -m resources.ray.job_entrypoint``.

It opens Dagster Pipes (context from the job's environment, messages to its stdout, which Ray keeps as the job's log),
connects to the cluster it runs on, runs the step's work with ``run_on_ray`` (the same read tasks and datasink as
a step whose Dagster process is the driver) and reports the staged result; the Dagster process commits it. Its log
lines reach the run's event log; an error is reported before the job fails with it.
"""

from __future__ import annotations

import os

from dagster_pipes import PipesContext, open_dagster_pipes

from resources.ray.execute import run_on_ray, step_modules
from resources.ray.job_payload import ERROR_KEY, WORK_EXTRA, JobWork, decode, result_messages
from resources.ray.resource import RayEngine


def main() -> None:
    with open_dagster_pipes() as pipes:
        run_work(pipes, decode(pipes.get_extra(WORK_EXTRA)))


def run_work(pipes: PipesContext, job: JobWork) -> None:
    name = "/".join(job.work.asset_path)
    # The job's own cluster: Ray gives its driver the address; the job's runtime env already carries the code.
    engine = RayEngine(**{**job.engine, "address": os.environ["RAY_ADDRESS"], "job_address": None})
    engine.connect(step_modules(job.work.step), in_job=True)
    try:
        pipes.log.info(f"{name}: Ray job driver connected to {engine.identity}")
        run = run_on_ray(engine, job.step_work())
    except Exception as error:
        cause = root_cause(error)
        pipes.report_custom_message({ERROR_KEY: f"{type(cause).__name__}: {cause}"})
        raise
    finally:
        engine.disconnect()
    for message in result_messages(run):
        pipes.report_custom_message(message)
    pipes.log.info(f"{name}: {run.rows_in} rows in, staged for the commit: {run.stats}")


def root_cause(error: BaseException) -> BaseException:
    """The error a step raised, out of Ray's wrappers (a ``RayTaskError`` holds it as its ``cause``); the whole
    traceback stays in the job's log."""
    seen = {id(error)}
    while (inner := getattr(error, "cause", None) or error.__cause__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        error = inner
    return error


if __name__ == "__main__":
    main()
