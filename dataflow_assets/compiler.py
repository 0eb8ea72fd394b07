"""Pipeline -> Dagster assets.

Every node of a traced pipeline becomes the software-defined asset ``<group>/<step>`` stored by the Delta IO
manager. Its ``code_version`` is the step's fingerprint (operator class, class version, parameters, keys), so
changing one parameter makes exactly that asset and its descendants stale. Partitioned sources give their
partitions (static or dynamic, see ``dataflow_assets.partitions``) to every step downstream of them, up to the first
fan-in step (``dataset.all_partitions()``); a dynamic source also gets a sensor that registers new files.
"""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from dataflow_assets.checks import step_checks
from dataflow_assets.partitions import new_files_sensor, partitions_for_source
from dataflow_assets.progress import step_progress
from operators.base import OpResult
from operators.columns import PARTITION
from operators.engines import Usage, engine_identity, engine_usage
from operators.errors import PipelineDefinitionError
from operators.pipeline import Pipeline, TracedPipeline
from operators.sources.file_source import FileSource
from operators.tracing import Node
from resources.delta_io import (
    COLUMN_DOCS_METADATA_KEY,
    CONSUMERS_METADATA_KEY,
    FAN_IN_METADATA_KEY,
    SLICE_METADATA_KEY,
    TEXT_COLUMNS_METADATA_KEY,
    DeltaIOManager,
    StepOutput,
)
from resources.step_output import DeltaSlice

IO_MANAGER_KEY = "delta_io"
RAY_KEY = "ray"
"""The resource that runs a pipeline's ``ray_steps`` (``resources.ray.RayEngine``)."""


@dataclass(frozen=True)
class CompiledPipeline:
    group: str
    assets: list[dg.AssetsDefinition]
    checks: list[dg.AssetChecksDefinition]
    sensors: list[dg.SensorDefinition]
    sources: list[tuple[FileSource, dg.PartitionsDefinition | None]]
    """Each source with its partitioning, so that the runner can register a dynamic source's new files."""

    @property
    def partitioned_assets(self) -> list[dg.AssetsDefinition]:
        return [a for a in self.assets if a.partitions_def is not None]

    @property
    def unpartitioned_assets(self) -> list[dg.AssetsDefinition]:
        return [a for a in self.assets if a.partitions_def is None]


def compile_pipeline(pipeline: Pipeline | TracedPipeline) -> CompiledPipeline:
    """Trace ``pipeline`` (checking every key binding) and return one asset per step, and the steps' checks."""
    traced = pipeline.trace() if isinstance(pipeline, Pipeline) else pipeline
    partitions = _partitions_by_node(traced)
    assets = []
    checks = []
    filtered = _filtered_nodes(traced)
    for name, node in traced.nodes.items():
        text_columns = [c for c in traced.text_columns if c in node.columns] if name in filtered else []
        checks += step_checks(
            traced.group, node, text_columns=text_columns, max_rejection_rate=traced.max_rejection_rate.get(name)
        )
        metadata = _asset_metadata(node, consumers=sum(n.inputs.count(name) for n in traced.nodes.values()))
        metadata[TEXT_COLUMNS_METADATA_KEY] = text_columns
        if node.is_source:
            assets.append(_source_asset(traced.group, node, partitions[name], metadata))
        else:
            fan_in = [partitions[name] is None and partitions[i] is not None for i in node.inputs]
            on_ray = name in traced.ray_steps
            assets.append(_step_asset(traced.group, node, partitions[name], metadata, fan_in, on_ray=on_ray))
    sources = [(node.step, partitions[name]) for name, node in traced.nodes.items() if node.is_source]
    sensors = [
        new_files_sensor(
            traced.group,
            source,
            partitions_def,
            [a.key for a in assets if a.partitions_def is partitions_def],
        )
        for source, partitions_def in sources
        if isinstance(partitions_def, dg.DynamicPartitionsDefinition)
    ]
    return CompiledPipeline(traced.group, assets, checks, sensors, sources)


def _history(io: DeltaIOManager, asset_path: list[str], side: str, writing: list[str]) -> pl.LazyFrame | None:
    """The step's side table over the partitions other than those being written, or None before the first."""
    uri = io.store.uri(asset_path, side)
    if not io.store.exists(uri):
        return None
    return pl.scan_delta(uri).filter(~pl.col(PARTITION).is_in(writing))


def _filtered_nodes(traced: TracedPipeline) -> set[str]:
    """Steps at or after a filter. Text columns are required to be present only there: raw input may hold empty
    documents, and removing them is the filters' job."""
    filtered: set[str] = set()
    for name, node in traced.nodes.items():
        if (not node.is_source and node.step.filters_rows) or any(i in filtered for i in node.inputs):
            filtered.add(name)
    return filtered


def _partitions_by_node(traced: TracedPipeline) -> dict[str, dg.PartitionsDefinition | None]:
    found: dict[str, dg.PartitionsDefinition | None] = {}
    for name, node in traced.nodes.items():
        if node.is_source:
            found[name] = partitions_for_source(traced.group, name, node.step)
        elif not node.partitioned:
            found[name] = None
        else:
            upstream = {id(found[i]): found[i] for i in node.inputs}
            if len(upstream) > 1:
                raise PipelineDefinitionError(
                    f"pipeline {traced.group!r}, step {name!r}: joins datasets with different partitionings",
                    hint="call .all_partitions() on the inputs to make this a fan-in step",
                )
            found[name] = next(iter(upstream.values()))
    return found


def _asset_metadata(node: Node, consumers: int) -> dict[str, object]:
    described = node.step.describe()
    return {
        COLUMN_DOCS_METADATA_KEY: node.step.column_docs(),
        CONSUMERS_METADATA_KEY: consumers,
        "dataflow/operator": described["operator"],
        "dataflow/category": described["category"],
        "dataflow/step": dg.MetadataValue.json(described),
    }


def _engine_metadata(name: str, engine: object, spent: Usage | None) -> dict[str, object]:
    """An engine's identity and its usage during the step, under ``dataflow/<engine>/...``."""
    metadata: dict[str, object] = {f"dataflow/{name}/identity": engine_identity(engine)}
    for key, value in (spent.metadata() if spent is not None else {}).items():
        if value is not None:
            metadata[f"dataflow/{name}/{key}"] = dg.MetadataValue.json(value) if isinstance(value, dict) else value
    return metadata


def _description(node: Node) -> str:
    """What the step does, in the UI: the operator's own summary (each item's, for a stage)."""
    return node.step.summary()


def _source_asset(
    group: str, node: Node, partitions_def: dg.PartitionsDefinition | None, metadata: dict[str, object]
) -> dg.AssetsDefinition:
    source: FileSource = node.step

    @dg.asset(
        key=[group, node.name],
        group_name=group,
        code_version=node.code_version(),
        partitions_def=partitions_def,
        io_manager_key=IO_MANAGER_KEY,
        description=_description(node),
        metadata=metadata,
        kinds={"delta", "polars"},
    )
    def ingest(context: dg.AssetExecutionContext) -> dg.Output[StepOutput]:
        if partitions_def is None:
            results = [source.read(source.files(), partition_key=None)]
        else:
            by_name = {source.relative_name(f): f for f in source.files()}
            results = [
                source.read([by_name.get(key, Path(source.path) / key)], partition_key=key)
                for key in context.partition_keys
            ]
        rows = pl.concat([r.rows for r in results], how="diagonal_relaxed")
        quarantine = pl.concat([r.quarantine for r in results])
        for reason, count in quarantine.group_by("_reason").len().iter_rows():
            context.log.warning(f"{count} row(s) quarantined as {reason} (see the .quarantine table)")
        return dg.Output(
            StepOutput(OpResult(kept=rows, side_tables={"quarantine": quarantine})),
            metadata={"dataflow/rows_in": sum(r.rows_in for r in results)},
        )

    return ingest


def _step_asset(
    group: str,
    node: Node,
    partitions_def: dg.PartitionsDefinition | None,
    metadata: dict[str, object],
    fan_in: list[bool],
    *,
    on_ray: bool = False,
) -> dg.AssetsDefinition:
    # A step that judges new partitions against its own earlier ones reads that history (partitioned steps only).
    history_side = node.step.history if partitions_def is not None else None
    # A Ray step's input is a pinned slice its workers read, not a frame (read here only when it runs on polars).
    ins = {
        f"input_{i}": dg.AssetIn(
            key=[group, upstream],
            metadata={FAN_IN_METADATA_KEY: gathers, **({SLICE_METADATA_KEY: True} if on_ray else {})},
        )
        for i, (upstream, gathers) in enumerate(zip(node.inputs, fan_in, strict=True))
    }
    ray_keys = {RAY_KEY, IO_MANAGER_KEY} if on_ray else set()
    text_columns = list(metadata.get(TEXT_COLUMNS_METADATA_KEY) or [])  # counted by the workers on Ray
    read_downstream = bool(metadata.get(CONSUMERS_METADATA_KEY))  # else written as an output (its codec)

    @dg.asset(
        key=[group, node.name],
        ins=ins,
        group_name=group,
        code_version=node.code_version(),
        partitions_def=partitions_def,
        io_manager_key=IO_MANAGER_KEY,
        required_resource_keys=set(node.step.engines) | ({IO_MANAGER_KEY} if history_side else set()) | ray_keys,
        description=_description(node),
        metadata=metadata,
        kinds={"delta", "polars"},
    )
    def step(context: dg.AssetExecutionContext, **inputs: pl.DataFrame | DeltaSlice) -> dg.Output[StepOutput]:
        given = [inputs[f"input_{i}"] for i in range(len(node.inputs))]
        engines = {name: getattr(context.resources, name) for name in node.step.engines}
        used = {name: engine_identity(engine) for name, engine in engines.items()}
        if on_ray and context.resources.ray.runs(group, node.name):
            return _ray_step(
                context,
                group,
                node,
                given[0],
                engines,
                used,
                text_columns,
                partitioned=partitions_def is not None,
                read_downstream=read_downstream,
            )
        frames = [i.read() if isinstance(i, DeltaSlice) else i for i in given]
        before = {name: engine_usage(engine) for name, engine in engines.items()}
        with step_progress(context.log, f"{group}/{node.name}"):
            if history_side is not None:
                history = _history(context.resources.delta_io, [group, node.name], history_side, context.partition_keys)
                result = node.step.run(frames, engines, history=history)
            else:
                result = node.step.run(frames, engines)
        # rows_in counts the rows the step works on (its first input); a second input (the other side of a join,
        # a reference dataset) is reported on its own, so that rows_in - rows_out stays the rows the step removed;
        # a generator of rows from nothing reads none.
        metadata: dict[str, object] = {"dataflow/rows_in": frames[0].height if frames else 0}
        if len(frames) > 1:
            metadata["dataflow/rows_in_by_input"] = dg.MetadataValue.json([f.height for f in frames])
        for name, engine in engines.items():
            after = engine_usage(engine)
            spent = after.since(before[name]) if after is not None and before[name] is not None else None
            metadata.update(_engine_metadata(name, engine, spent))
        return dg.Output(StepOutput(result, engines=used), metadata=metadata)

    return step


def _ray_step(
    context: dg.AssetExecutionContext,
    group: str,
    node: Node,
    source: DeltaSlice,
    engines: dict[str, object],
    used: dict[str, str],
    text_columns: list[str],
    *,
    partitioned: bool,
    read_downstream: bool,
) -> dg.Output[StepOutput]:
    """Run the step on Ray, in this process as the driver or as a Ray job: the workers write the output's files,
    the IO manager commits them (two phases)."""
    from resources.ray.execute import RayStep, run_on_ray  # imports ray: only for steps that run on it
    from resources.ray.jobs import run_as_job

    ray_engine = context.resources.ray
    work = RayStep(
        node.step,
        source,
        engines,
        store=context.resources.delta_io.store,
        asset_path=[group, node.name],
        partitioned=partitioned,
        text_columns=text_columns,
        read_downstream=read_downstream,
    )
    if ray_engine.job_address is not None:
        run = run_as_job(context, ray_engine, work)
    else:
        with step_progress(context.log, f"{group}/{node.name}"):
            run = run_on_ray(ray_engine, work)
    context.log.info(f"{group}/{node.name} ran on {ray_engine.identity}: {run.stats}")
    metadata: dict[str, object] = {"dataflow/rows_in": run.rows_in, "dataflow/ray": dg.MetadataValue.json(run.stats)}
    for name, engine in engines.items():
        metadata.update(_engine_metadata(name, engine, run.usage.get(name)))
    return dg.Output(StepOutput(run.result, engines=used), metadata=metadata)
