"""What ``dagster dev -w workspace.yaml`` loads: every discovered pipeline as an asset group on Delta storage.

Definitions are built lazily (``@dg.definitions``: when Dagster loads the code location, not when this module is
imported), pipeline by pipeline: a pipeline that cannot be built — its domain's optional dependency is missing, its
input folder is empty, its code is broken — is reported on one line and left out, and the others load.

Delta tables go under ``$DATAFLOW_DATA_ROOT`` (default ``./data/delta``, relative to where Dagster starts); a
pipeline reads the folder in ``$DATAFLOW_<PIPELINE>_INPUT`` (e.g. ``DATAFLOW_TEXT_PRETRAIN_INPUT``), by default
its bundled sample data.

Runs execute in one process by default (``$DATAFLOW_EXECUTOR=in_process``): Dagster's multiprocess executor starts a
Python process per step, which costs seconds per step (10x the wall time of a small one-partition run, see
``benchmarks/results/run_modes.md``) and gives nothing to a chain of steps, while one process lets each step hand
its frame to the next without reading it back from Delta. ``DATAFLOW_EXECUTOR=multiprocess`` restores Dagster's
default, a process per step (its ``max_concurrent`` is set in the launchpad).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from dataflow_assets.compiler import IO_MANAGER_KEY, CompiledPipeline, compile_pipeline
from dataflow_assets.pipelines import discover_pipelines, get_pipeline
from operators.domains import DomainProblem, describe_failure
from operators.errors import DataflowError
from operators.pipeline import Pipeline
from resources.delta_io import DeltaIOManager
from resources.engines import discover_engines, engine_resources

DATA_ROOT_ENV = "DATAFLOW_DATA_ROOT"
EXECUTOR_ENV = "DATAFLOW_EXECUTOR"
EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}

log = logging.getLogger("dataflow")


def data_root() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV, "data/delta")).absolute()


def executor() -> dg.ExecutorDefinition:
    name = os.environ.get(EXECUTOR_ENV, "in_process")
    if name not in EXECUTORS:
        raise DataflowError(f"{EXECUTOR_ENV}={name!r} is not an executor", hint=f"use one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name]


@dataclass(frozen=True)
class BuiltPipelines:
    compiled: list[CompiledPipeline]
    problems: list[DomainProblem]


def compile_discovered(names: Iterable[str] | None = None) -> BuiltPipelines:
    """Compile the named pipelines (default: every discovered one), each on its own: one that fails is reported."""
    found = discover_pipelines()
    engines = discover_engines()
    problems = list(found.problems) + list(engines.problems)
    compiled = []
    for name in names if names is not None else sorted(found.pipelines):
        where = f"{found.domains.get(name, '?')}/{name}"
        try:
            pipeline = compile_pipeline(get_pipeline(name))
        except Exception as error:  # one broken pipeline must not take the code location down
            hint = error.hint if isinstance(error, DataflowError) and error.hint else "dataflow --debug run " + name
            cause = error.args[0] if isinstance(error, DataflowError) else describe_failure(error)
            problems.append(DomainProblem(where, cause, hint))
            continue
        missing = missing_engines(pipeline, set(engines.engines))
        if missing:  # Dagster would refuse the whole code location for one asset's unknown resource key
            cause = f"needs the engine(s) {', '.join(missing)}, which no installed resources package provides"
            problems.append(DomainProblem(where, cause, "install the extra that carries the engine, or add it"))
            continue
        compiled.append(pipeline)
    return BuiltPipelines(compiled, problems)


def missing_engines(pipeline: CompiledPipeline, engines: set[str]) -> list[str]:
    """The resource keys ``pipeline``'s assets require that neither the IO manager nor a discovered engine has."""
    required = {key for asset in pipeline.assets for key in asset.required_resource_keys}
    return sorted(required - engines - {IO_MANAGER_KEY})


def build_definitions(
    pipelines: Iterable[Pipeline | CompiledPipeline],
    root: Path | str,
    executor_def: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    compiled = [p if isinstance(p, CompiledPipeline) else compile_pipeline(p) for p in pipelines]
    resources = {IO_MANAGER_KEY: DeltaIOManager.from_environment(root), **engine_resources(root)}
    return dg.Definitions(
        assets=[a for c in compiled for a in c.assets],
        asset_checks=[c for p in compiled for c in p.checks],
        sensors=[s for p in compiled for s in p.sensors],
        resources=resources,
        executor=executor_def,
    )


@dg.definitions
def defs() -> dg.Definitions:
    built = compile_discovered()
    for problem in built.problems:
        log.warning(problem.line())
    return build_definitions(built.compiled, data_root(), executor())
