"""A small pipeline with every step partitioned, its shards, and a child process that materializes one partition,
for the test of concurrent runs on a PostgreSQL instance (``test_postgres_instance.py``).

Run as a script, ``python postgres_pipeline.py SHARDS ROOT PARTITION`` loads the Dagster instance of
``$DAGSTER_HOME``, prints ``ready``, waits for a line on stdin (so that a test can start two children at the same
moment), materializes PARTITION and prints the run ids as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import dagster as dg

from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, NormalizeTextRefiner, Pipeline, WordCountFilter

MIN_WORDS = 3
SHARDS: dict[str, list[tuple[str, str | None]]] = {
    "a.jsonl": [
        ("Alpha  one\ttwo", "Alpha one two"),
        ("alpha", None),
        (" alpha three four five ", "alpha three four five"),
    ],
    "b.jsonl": [("beta", None), ("beta one", None), ("Beta   one two three", "Beta one two three")],
    "c.jsonl": [("gamma one two", "gamma one two"), ("gamma  gamma gamma", "gamma gamma gamma")],
}
"""Shard -> its documents, each with the text the filter keeps after normalizing (None: too short)."""


class ShardsPipeline(Pipeline):
    group = "concurrent"
    description = "Normalize and filter documents, one partition per shard; no fan-in step."

    def __init__(self, data_dir: Path | str) -> None:
        super().__init__()
        self.raw = FileSource(path=str(data_dir), pattern="*.jsonl", columns={"text": "string"}, partitioned=True)
        self.normalize = NormalizeTextRefiner()
        self.long_enough = WordCountFilter(min_words=MIN_WORDS)

    def forward(self):
        docs = self.normalize(self.raw(), input_key="text", output_key="text")
        return self.long_enough(docs, input_key="text")


def write_shards(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, docs in SHARDS.items():
        (folder / name).write_text("".join(json.dumps({"text": text}) + "\n" for text, _ in docs))


def kept_texts(shard: str) -> list[str]:
    return sorted(kept for _, kept in SHARDS[shard] if kept is not None)


def main(shards: str, root: str, partition: str) -> None:
    instance = dg.DagsterInstance.from_config(os.environ["DAGSTER_HOME"])
    pipeline = ShardsPipeline(shards)
    print("ready", flush=True)
    sys.stdin.readline()
    summary = materialize_pipeline(pipeline, root=root, instance=instance, partitions=[partition])
    print(json.dumps(summary.run_ids), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
