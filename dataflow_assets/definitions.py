"""What ``dagster dev -w workspace.yaml`` loads: every shipped pipeline as an asset group on Delta storage.

Delta tables go under ``$DATAFLOW_DATA_ROOT`` (default ``./data/delta``, relative to where Dagster starts); a
pipeline reads the folder in ``$DATAFLOW_<PIPELINE>_INPUT`` (e.g. ``DATAFLOW_TEXT_PRETRAIN_INPUT``), by default
its bundled sample data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from dataflow_assets.compiler import IO_MANAGER_KEY, compile_pipeline
from dataflow_assets.engines import engine_resources
from dataflow_assets.pipelines import PIPELINES, get_pipeline
from operators.pipeline import Pipeline
from resources.delta_io import DeltaIOManager

DATA_ROOT_ENV = "DATAFLOW_DATA_ROOT"


def data_root() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV, "data/delta")).absolute()


def build_definitions(pipelines: Iterable[Pipeline], root: Path | str) -> dg.Definitions:
    compiled = [compile_pipeline(pipeline) for pipeline in pipelines]
    resources = {IO_MANAGER_KEY: DeltaIOManager(root=str(root)), **engine_resources(root)}
    return dg.Definitions(
        assets=[a for c in compiled for a in c.assets],
        asset_checks=[c for p in compiled for c in p.checks],
        sensors=[s for p in compiled for s in p.sensors],
        resources=resources,
    )


defs = build_definitions((get_pipeline(name) for name in PIPELINES), data_root())
