"""Pipelines for the Ray tests, in a module of their own so that the workers import the same classes (the test
connection ships the ``tests`` package to them).

``KillOnce`` kills the worker process that runs it the first time it sees a given partition, leaving a marker file
behind: Ray must run that batch again on another worker, and the run must end with every row exactly once.
``FailOn`` raises on the rows of a given partition: a step error, which fails the run. ``RecordCluster`` tells
which cluster ran the step; ``Sleep`` keeps it busy.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl
from pydantic import Field

from operators import (
    FileSource,
    NormalizeTextRefiner,
    Pipeline,
    PromptedRefiner,
    PromptTemplate,
    Sequential,
    TextStatsEvaluator,
    WordCountFilter,
)
from operators.base import OpResult, Read, Refiner
from operators.columns import PARTITION
from operators.errors import DataflowError


class KillOnce(Refiner):
    """Kills its own process (SIGKILL) the first time it runs on rows of ``partition``; changes no row."""

    marker: str = Field(description="File created just before the kill; while it exists, no kill happens")
    partition: str = Field(description="The partition whose first batch dies")

    def expressions(self, *, input_key: Read = "text") -> dict[str, pl.Expr]:
        return {}

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        if self.partition in df[PARTITION].to_list():
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return OpResult(kept=df)
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return OpResult(kept=df)


class FailOn(Refiner):
    """Raises a :class:`DataflowError` on rows of ``partition``; changes no row."""

    partition: str = Field(description="The partition whose rows the step refuses")

    def expressions(self, *, input_key: Read = "text") -> dict[str, pl.Expr]:
        return {}

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        if self.partition in df[PARTITION].to_list():
            raise DataflowError(f"FailOn refuses partition {self.partition!r}")
        return OpResult(kept=df)


class RecordCluster(Refiner):
    """Writes what the Ray worker running it sees of its cluster (CPUs, nodes) to ``path`` as JSON; changes no
    row."""

    path: str = Field(description="File to write")

    def expressions(self, *, input_key: Read = "text") -> dict[str, pl.Expr]:
        return {}

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        import ray

        (df,) = frames
        seen = {"cpus": ray.cluster_resources().get("CPU"), "nodes": sum(node["Alive"] for node in ray.nodes())}
        Path(self.path).write_text(json.dumps(seen))
        return OpResult(kept=df)


class Sleep(Refiner):
    """Sleeps ``seconds`` on each batch, so that a run is still busy when a test cancels it; changes no row."""

    seconds: float = Field(description="Seconds per batch")

    def expressions(self, *, input_key: Read = "text") -> dict[str, pl.Expr]:
        return {}

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        time.sleep(self.seconds)
        return OpResult(kept=frames[0])


class CleanPipeline(Pipeline):
    """Shards -> clean (normalize, score, filter short documents: rejected and scores side tables), on Ray."""

    group = "ray_clean"
    text_columns = ("text",)
    ray_steps = ("clean",)

    def __init__(self, shards: Path | str, *, first: Sequence[Refiner] = ()) -> None:
        """``first``: operators run before the cleaning, to fail, kill or observe the step (changing no row)."""
        super().__init__()
        self.raw = FileSource(path=str(shards), pattern="*.jsonl", columns={"text": "string"}, partitioned=True)
        self.clean = Sequential(*first, NormalizeTextRefiner(), TextStatsEvaluator(), WordCountFilter(min_words=8))

    def forward(self):
        return self.clean(self.raw())


class RewritePipeline(Pipeline):
    """Shards -> rewrite (one LLM call per row), on a Ray actor pool."""

    group = "ray_rewrite"
    text_columns = ("text",)
    ray_steps = ("rewrite",)

    def __init__(self, shards: Path | str) -> None:
        super().__init__()
        self.raw = FileSource(path=str(shards), pattern="*.jsonl", columns={"text": "string"}, partitioned=True)
        self.rewrite = PromptedRefiner(
            prompt=PromptTemplate(name="rewrite", version="1", template="Rewrite: {{ text }}"), max_tokens=32
        )

    def forward(self):
        return self.rewrite(self.raw(), output_key="rewritten")
