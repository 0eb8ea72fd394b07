"""What runs on the workers: read one task's rows, run the bound step on them (Arrow -> polars -> Arrow), and pack
every output table into one Ray block for the datasink.

A step has several outputs (kept rows, rejected rows, scores...) with different schemas, while a Ray block has one
schema; so a block holds one row per output table, the table as an Arrow IPC stream, plus the batch's summary and
its engines' usage. Steps without an engine run as plain tasks; a step with engines (an LLM) runs on a pool of
actors, each of which builds its engines once, as the Dagster resource would, with its share of the limits.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
from collections import Counter
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from operators.base import OpResult
from operators.engines import engine_usage
from resources.ray.reading import ReadTask, read_task
from resources.step_output import OutputSummary

MAIN = ""
"""The packed name of the step's own table; side tables go by their suffix (``rejected``, ``scores``)."""
SHARED_LIMITS = {"max_concurrency": "calls", "requests_per_minute": "rate", "tokens_per_minute": "rate"}
"""Engine resource fields that bound the whole step, divided among its actors so that together they keep them."""


@dataclass(frozen=True)
class Packed:
    """One output table of one batch, unpacked by the datasink."""

    name: str
    frame: pl.DataFrame
    meta: dict[str, Any] | None
    """On the main table only: the batch's ``index``, ``summary`` and engines' ``usage``."""


def run_task(batch: pa.Table, *, step: Any, schema: pl.Schema, text_columns: list[str]) -> pa.Table:
    """A plain Ray task: one read task in, the step's packed outputs out."""
    task = ReadTask(**batch.to_pylist()[0])
    return pack(task.index, step.run([read_task(task, schema)]), text_columns, usage={})


class EngineActor:
    """A Ray actor for a step with engines: builds them once, then runs the step on one read task per call."""

    def __init__(
        self, *, step: Any, schema: pl.Schema, text_columns: list[str], engines: dict[str, EngineRecipe]
    ) -> None:
        self.step, self.schema, self.text_columns = step, schema, text_columns
        self.engines = {name: recipe.build() for name, recipe in engines.items()}
        self.seen = {name: engine_usage(engine) for name, engine in self.engines.items()}

    def __call__(self, batch: pa.Table) -> pa.Table:
        task = ReadTask(**batch.to_pylist()[0])
        result = self.step.run([read_task(task, self.schema)], self.engines)
        usage: dict[str, Any] = {}
        for name, engine in self.engines.items():
            now = engine_usage(engine)
            if now is not None and self.seen[name] is not None:
                usage[name] = now.since(self.seen[name])
            self.seen[name] = now
        return pack(task.index, result, self.text_columns, usage=usage)


@dataclass(frozen=True)
class EngineRecipe:
    """How an actor gets its engine: a resource class and its configuration, built on the actor (Dagster resources
    themselves do not pickle), or an engine object sent as it is."""

    resource: type | None
    values: dict[str, Any]
    engine: Any = None

    def build(self) -> Any:
        return self.given().build_client() if self.resource is not None else self.engine

    def given(self) -> Any:
        """The engine as the step was given it: the resource (configured, not built) or the engine object."""
        return self.resource(**self.values) if self.resource is not None else self.engine


def worker_engine(engine: Any, actors: int) -> EngineRecipe:
    """The recipe of an engine for one of ``actors`` actors: the resource's configuration with the shared limits
    divided among them (each actor builds its own client from it, with its own connections and cache handle). An
    engine that is not a resource with ``build_client`` is sent as it is."""
    if not hasattr(engine, "build_client") or not hasattr(type(engine), "model_fields"):
        return EngineRecipe(None, {}, engine)
    values = {name: getattr(engine, name) for name in type(engine).model_fields}
    for name, kind in SHARED_LIMITS.items():
        if values.get(name) is not None:
            values[name] = max(1, values[name] // actors) if kind == "calls" else values[name] / actors
    return EngineRecipe(type(engine), values)


def pack(index: int, result: OpResult, text_columns: list[str], *, usage: dict[str, Any]) -> pa.Table:
    summary = OutputSummary.of(result, text_columns, count_ids=False)
    tables = {MAIN: result.kept, **result.tables()}
    meta = {"index": index, "summary": summary, "usage": usage}
    return pa.table(
        {
            "name": list(tables),
            "ipc": pa.array([_ipc(frame) for frame in tables.values()], pa.large_binary()),
            "meta": pa.array([pickle.dumps(meta) if name == MAIN else None for name in tables], pa.large_binary()),
        }
    )


def unpack(block: pa.Table) -> list[Packed]:
    return [
        Packed(row["name"], pl.read_ipc_stream(row["ipc"]), pickle.loads(row["meta"]) if row["meta"] else None)
        for row in block.to_pylist()
    ]


def merge_usage(a: Any, b: Any) -> Any:
    """Two usage snapshots of one engine added up (calls, tokens, latencies...): usage snapshots are dataclasses of
    counters, lists and counter maps, so they add field by field."""
    if a is None or b is None:
        return a if b is None else b
    merged = {}
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, Counter):
            merged[field.name] = x + y
        elif isinstance(x, dict):
            merged[field.name] = {k: x.get(k, 0) + y.get(k, 0) for k in {*x, *y}}
        else:
            merged[field.name] = x + y
    return type(a)(**merged)


def _ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc_stream(buffer)
    return buffer.getvalue()
