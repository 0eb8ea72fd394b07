"""The pipelines this project ships, by name: the definitions, the CLI and the agent read this one list."""

from __future__ import annotations

import os
from collections.abc import Callable

from dataflow_assets.demo.pipeline import DemoPipeline
from dataflow_assets.text.pretrain import TextPretrainPipeline
from dataflow_assets.text.sft import TextSftPipeline
from operators.errors import DataflowError
from operators.pipeline import Pipeline

PIPELINES: dict[str, Callable[..., Pipeline]] = {
    DemoPipeline.group: DemoPipeline,
    TextPretrainPipeline.group: TextPretrainPipeline,
    TextSftPipeline.group: TextSftPipeline,
}

DEMO_PIPELINES = (TextPretrainPipeline.group, TextSftPipeline.group)
"""What ``dataflow demo``, the README's main job, runs."""


def input_env(name: str) -> str:
    """The variable naming a pipeline's input folder, e.g. ``DATAFLOW_TEXT_PRETRAIN_INPUT``."""
    return f"DATAFLOW_{name.upper()}_INPUT"


def get_pipeline(name: str) -> Pipeline:
    """The named pipeline, on the folder in its input variable if set, else on its bundled sample data."""
    if name not in PIPELINES:
        raise DataflowError(f"no pipeline named {name!r}", hint=f"known pipelines: {', '.join(sorted(PIPELINES))}")
    folder = os.environ.get(input_env(name))
    return PIPELINES[name](folder) if folder else PIPELINES[name]()
