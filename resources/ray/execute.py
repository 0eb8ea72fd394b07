"""Running one row-local step on Ray, from a pinned input slice to staged files the IO manager commits.

The driver (the step's process) plans read tasks over the pinned input (``resources.ray.reading``), runs the bound
step on each as a Ray task, or on an actor pool when the step needs engines (``resources.ray.batches``), and lets
the datasink write every output table's files from the workers (``resources.ray.datasink``). It returns a
:class:`~resources.step_output.StagedResult`: the files per table, checked to share one schema, and the output's
summary added up batch by batch, so that the IO manager can commit each table once and report the same metadata as
for a step run on polars.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import polars as pl

from operators.base import OpResult
from operators.errors import DataflowError
from resources.delta_store import DeltaStore
from resources.ray.batches import MAIN, EngineActor, merge_usage, run_task, worker_engine
from resources.ray.datasink import StagedBlock, StagingDatasink
from resources.ray.reading import plan_reads
from resources.ray.resource import RayEngine, import_ray
from resources.step_output import DeltaSlice, StagedResult, StagedTable


@dataclass(frozen=True)
class RayRun:
    result: StagedResult | OpResult
    """Staged files; a frame result only when the input had no rows (then nothing went to Ray)."""
    rows_in: int
    usage: dict[str, Any]
    """Each engine's usage during the step, added up over the actors."""
    stats: dict[str, object]
    """Where and how the step ran: the cluster, tasks, actors, seconds."""


@dataclass(frozen=True)
class RayStep:
    """A bound row-local step (see ``Pipeline.ray_steps``) and where it reads and writes: what runs on Ray, with
    this process as the driver or in a Ray job (``resources.ray.jobs``)."""

    step: Any
    source: DeltaSlice
    engines: dict[str, Any]
    """The step's engines as Dagster gives them: resources, not built clients."""
    store: DeltaStore
    asset_path: list[str]
    partitioned: bool
    text_columns: list[str]
    read_downstream: bool = False
    """Whether a later step reads the step's main table (which decides its codec)."""


def run_on_ray(ray_engine: RayEngine, work: RayStep) -> RayRun:
    """Run ``work``'s step over its source on Ray, with this process as the driver."""
    step, source, engines, asset_path = work.step, work.source, work.engines, work.asset_path
    started = time.perf_counter()
    tasks = plan_reads(source, ray_engine.rows_per_block)
    if not tasks:  # no rows: nothing to distribute
        frame = pl.scan_delta(source.uri, version=source.version).head(0).collect()
        return RayRun(step.run([frame], engines), 0, {}, {"identity": ray_engine.identity, "tasks": 0})
    ray_engine.connect(step_modules(step))
    ray = import_ray()
    schema = pl.scan_delta(source.uri, version=source.version).collect_schema()
    items = ray.data.from_items([asdict(t) for t in tasks], override_num_blocks=len(tasks))
    # The same remote arguments for the map and the write let Ray fuse them into one task per block (no copy of
    # the packed outputs through the object store). Ray 2.60 warns that these keyword arguments will be renamed.
    remote = {"num_cpus": ray_engine.cpus_per_task, "max_retries": ray_engine.max_retries}
    settings = {"step": step, "schema": schema, "text_columns": work.text_columns}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated", category=DeprecationWarning)
        if engines:
            actors = min(ray_engine.actors, len(tasks))
            recipes = {n: worker_engine(e, actors) for n, e in engines.items()}
            mapped = items.map_batches(
                EngineActor,
                fn_constructor_kwargs={**settings, "engines": recipes},
                concurrency=actors,
                batch_size=1,
                batch_format="pyarrow",
                num_cpus=ray_engine.cpus_per_task,
                num_gpus=ray_engine.gpus_per_actor or None,
                max_restarts=ray_engine.max_retries,
                max_task_retries=ray_engine.max_retries,
            )
        else:
            actors = 0
            mapped = items.map_batches(run_task, fn_kwargs=settings, batch_size=1, batch_format="pyarrow", **remote)
    sink = StagingDatasink(work.store, asset_path, partitioned=work.partitioned, read_downstream=work.read_downstream)
    mapped.write_datasink(sink, ray_remote_args=remote)
    result = _staged(sink, asset_path)
    usage: dict[str, Any] = {}
    for block in sink.main_blocks:
        for name, spent in block.meta["usage"].items():
            usage[name] = merge_usage(usage.get(name), spent)
    stats = {
        "identity": ray_engine.identity,
        "tasks": len(tasks),
        "actors": actors,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return RayRun(result, sum(t.rows for t in tasks), usage, stats)


def _staged(sink: StagingDatasink, asset_path: list[str]) -> StagedResult:
    by_table: dict[str, list[StagedBlock]] = {}
    for block in sink.staged:
        by_table.setdefault(block.name, []).append(block)
    tables = {name: _one_table(blocks, "/".join(asset_path), name) for name, blocks in by_table.items()}
    summaries = [block.meta["summary"] for block in sink.main_blocks]
    summary = summaries[0]
    for later in summaries[1:]:
        summary = summary.plus(later)
    main = tables.pop(MAIN)
    return StagedResult(main=main, summary=summary, sides=tables)


def _one_table(blocks: list[StagedBlock], asset: str, name: str) -> StagedTable:
    """The files of one output table; every batch must have produced the same schema, as one frame would have."""
    schema = blocks[0].schema
    for block in blocks[1:]:
        if block.schema != schema:
            differing = sorted(c for c in {*schema, *block.schema} if schema.get(c) != block.schema.get(c))
            raise DataflowError(
                f"{asset}{'.' + name if name else ''}: batches on Ray produced different column types for "
                f"{differing[:5]} ({[str(schema.get(c)) for c in differing[:5]]} vs "
                f"{[str(block.schema.get(c)) for c in differing[:5]]})",
                hint="give the operator's output columns a fixed type (cast them), or run this step on polars",
            )
    return StagedTable([f for block in blocks for f in block.files], schema)


def step_modules(step: Any) -> tuple[ModuleType, ...]:
    """The modules defining the step's operators, so that their packages reach the workers too."""
    items = getattr(step, "steps", [step])
    return tuple(sys.modules[type(item.op).__module__] for item in items)
