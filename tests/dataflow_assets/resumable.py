"""A small pipeline whose steps log every call, and can be made to fail or to hang, for the resume tests.

Each ``Logged`` step appends one line per call to its log file: the partitions it was given. A test counts lines to
tell which steps and partitions a run computed. The files live in the test's folder, so a child process killed
mid-run leaves them behind for the parent to read.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl
from pydantic import Field

from operators import ExactDedupFilter, FileSource, Pipeline
from operators.base import OpResult, Read, Refiner, Write
from operators.columns import PARTITION

SHARDS = {
    "a.jsonl": ["alpha one", "alpha two"],
    "b.jsonl": ["beta one", "beta two", "beta three"],
    "c.jsonl": ["gamma one", "alpha one"],
}


class Logged(Refiner):
    """Upper-cases a column, logging each call; fails on the partitions listed in ``fail_file`` and waits while
    ``hold_file`` exists (so that a test can kill the process in the middle of this step)."""

    log_file: str = Field(description="Where each call appends the partitions it was given")
    fail_file: str = Field("", description="A JSON list of partitions to fail on, while the file exists")
    hold_file: str = Field("", description="The step waits while this file exists")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: pl.col(input_key).str.to_uppercase()}

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        partitions = sorted(frames[0][PARTITION].unique())
        with open(self.log_file, "a") as log:
            log.write(",".join(partitions) + "\n")
        while self.hold_file and Path(self.hold_file).exists():
            time.sleep(0.05)
        if self.fail_file and Path(self.fail_file).exists():
            failing = set(json.loads(Path(self.fail_file).read_text())) & set(partitions)
            if failing:
                raise RuntimeError(f"planted failure on {sorted(failing)}")
        return super().run(*frames, **keys)


class ResumablePipeline(Pipeline):
    group = "resumable"
    text_columns = ("text",)

    def __init__(self, shards: Path | str, work: Path | str, *, suffix: str = "") -> None:
        super().__init__()
        work = Path(work)
        self.raw = FileSource(path=str(shards), pattern="*.jsonl", columns={"text": "string"}, partitioned=True)
        self.first = Logged(log_file=str(work / "first.log"))
        self.second = Logged(
            log_file=str(work / "second.log"), fail_file=str(work / "fail.json"), hold_file=str(work / "hold")
        )
        self.third = Logged(log_file=str(work / f"third{suffix}.log"))
        self.dedup = ExactDedupFilter()

    def forward(self):
        docs = self.third(self.second(self.first(self.raw())))
        return self.dedup(docs.all_partitions(), input_key="text")


def write_shards(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, texts in SHARDS.items():
        (folder / name).write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return folder


def calls(work: Path, step: str) -> list[str]:
    """The partitions of each call of ``step`` so far, one string per call (e.g. ``["a.jsonl,b.jsonl"]``)."""
    log = work / f"{step}.log"
    return log.read_text().splitlines() if log.exists() else []
