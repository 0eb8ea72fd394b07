"""What ``dagster dev -w workspace.yaml`` loads: every shipped pipeline as an asset group on Delta storage.

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

import os
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from dataflow_assets.compiler import IO_MANAGER_KEY, compile_pipeline
from dataflow_assets.engines import engine_resources
from dataflow_assets.pipelines import PIPELINES, get_pipeline
from operators.errors import DataflowError
from operators.pipeline import Pipeline
from resources.delta_io import DeltaIOManager

DATA_ROOT_ENV = "DATAFLOW_DATA_ROOT"
EXECUTOR_ENV = "DATAFLOW_EXECUTOR"
EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}


def data_root() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV, "data/delta")).absolute()


def executor() -> dg.ExecutorDefinition:
    name = os.environ.get(EXECUTOR_ENV, "in_process")
    if name not in EXECUTORS:
        raise DataflowError(f"{EXECUTOR_ENV}={name!r} is not an executor", hint=f"use one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name]


def build_definitions(
    pipelines: Iterable[Pipeline], root: Path | str, executor_def: dg.ExecutorDefinition | None = None
) -> dg.Definitions:
    compiled = [compile_pipeline(pipeline) for pipeline in pipelines]
    resources = {IO_MANAGER_KEY: DeltaIOManager(root=str(root)), **engine_resources(root)}
    return dg.Definitions(
        assets=[a for c in compiled for a in c.assets],
        asset_checks=[c for p in compiled for c in p.checks],
        sensors=[s for p in compiled for s in p.sensors],
        resources=resources,
        executor=executor_def,
    )


defs = build_definitions((get_pipeline(name) for name in PIPELINES), data_root(), executor())
