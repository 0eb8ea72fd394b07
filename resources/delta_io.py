"""The IO manager every pipeline asset uses: step outputs to Delta tables, Delta tables to polars frames.

Storage itself is :class:`resources.delta_store.DeltaStore`; this module adds what Dagster needs: which
partitions a step reads and writes, the side tables next to a step's table, the upstream versions each write
depends on (kept in the Delta commit, for lineage) and the materialization metadata.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import get_args

import dagster as dg
import polars as pl
from pydantic import Field, PrivateAttr

from operators.base import OpResult
from operators.columns import COLUMN_DOCS, PARTITION
from operators.errors import DataflowError
from resources.delta_store import (
    ENGINES_METADATA_KEY,
    INPUTS_METADATA_KEY,
    DeltaStore,
    ReadInfo,
    WriteInfo,
    delta_compatible,
)
from resources.parquet_layout import INTERMEDIATE_COMPRESSION, OUTPUT_COMPRESSION, Compression
from resources.step_output import PREVIEW_ROWS, DeltaSlice, OutputSummary, StagedResult, distinct_ids

COLUMN_DOCS_METADATA_KEY = "dataflow/column_docs"
"""Asset metadata: column -> what it holds, from what the step's operators declare; the column schema's descriptions."""
CONSUMERS_METADATA_KEY = "dataflow/consumers"
"""Asset metadata: how many step inputs read this asset (the write-through cache keeps a frame that long)."""
TEXT_COLUMNS_METADATA_KEY = "dataflow/text_columns"
"""Asset metadata: the text columns that must be neither null nor empty; their counts go into ``dataflow/facts``."""
FACTS_METADATA_KEY = "dataflow/facts"
"""Materialization metadata: facts about the rows just written (rows, distinct ids, null or empty text), computed
on the frame in memory so that asset checks need not read the table back."""
FAN_IN_METADATA_KEY = "dataflow/fan_in"
"""Set on an asset input that gathers every partition of a partitioned upstream into an unpartitioned step."""
SLICE_METADATA_KEY = "dataflow/slice"
"""Set on an asset input that the step reads itself (on Ray workers): it gets a :class:`DeltaSlice`, not a frame."""
PREVIEW_CELL_CHARS = 80
COMPRESSION_ENV = "DATAFLOW_COMPRESSION"
OUTPUT_COMPRESSION_ENV = "DATAFLOW_OUTPUT_COMPRESSION"


class StepOutput:
    """A step's result on its way to storage.

    The IO manager takes the frames out, so Dagster's in-process output capture (which keeps every step's return
    value until the run ends) is left holding an empty box instead of every intermediate dataset of the run.
    """

    def __init__(self, result: OpResult | StagedResult, *, engines: dict[str, str] | None = None) -> None:
        self._result: OpResult | StagedResult | None = result
        self.engines = engines or {}
        """Engine name -> model id used by the step (e.g. ``{"llm": "llama.cpp:SmolLM2..."}``), for lineage."""

    def take(self) -> OpResult | StagedResult:
        result, self._result = self._result, None
        if result is None:
            raise DataflowError("this step output was already stored")
        return result


@dataclass
class _Written:
    run_id: str
    version: int
    partitions: list[str] | None
    frame: pl.DataFrame
    readers_left: int


class DeltaIOManager(dg.ConfigurableIOManager):
    """Stores each asset ``group/step`` as the Delta table ``<root>/group/step``; partitioned assets are Delta
    tables partitioned by ``_partition`` and written partition by partition.

    Within a run, a frame just written is handed to the steps that read it next instead of being read back
    (write-through): only while the table is still at the version written, holds the same columns and the same
    partitions are asked for, and only until every consuming step has read it.
    """

    root: str = Field(description="Folder holding every pipeline's Delta tables")
    target_file_size: int | None = Field(
        None, description="Bytes per Delta data file (delta-rs default when unset); smaller files suit small partitions"
    )
    compression: Compression = Field(
        INTERMEDIATE_COMPRESSION,
        description="Parquet codec of the tables that later steps read: uncompressed costs the least CPU to write "
        "and read; snappy, lz4 or zstd trade CPU for disk (see resources/parquet_layout.py)",
    )
    output_compression: Compression = Field(
        OUTPUT_COMPRESSION,
        description="Parquet codec of the tables that no step reads but that are kept: the pipeline's outputs and "
        "the side tables (rejected rows, scores, quarantine)",
    )
    _reads: dict[tuple[str, str], dict[str, int]] = PrivateAttr(default_factory=dict)
    _written: dict[str, _Written] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_environment(cls, root: str | Path, *, target_file_size: int | None = None) -> DeltaIOManager:
        """The IO manager of ``dataflow run`` and ``dataflow ui``, its codecs from :data:`COMPRESSION_ENV` and
        :data:`OUTPUT_COMPRESSION_ENV` where they are set."""
        codecs: dict[str, Compression] = {}
        for name, variable in (("compression", COMPRESSION_ENV), ("output_compression", OUTPUT_COMPRESSION_ENV)):
            value = os.environ.get(variable)
            if value is None:
                continue
            if value not in get_args(Compression):
                codec_names = ", ".join(get_args(Compression))
                raise DataflowError(f"{variable}={value!r} is not a Parquet codec", hint=f"use one of {codec_names}")
            codecs[name] = value
        return cls(root=str(root), target_file_size=target_file_size, **codecs)

    @property
    def store(self) -> DeltaStore:
        return DeltaStore(
            self.root,
            target_file_size=self.target_file_size,
            compression=self.compression,
            output_compression=self.output_compression,
        )

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | DeltaSlice:
        store = self.store
        asset_path = context.asset_key.path
        uri = store.uri(asset_path)
        name = context.asset_key.to_user_string()
        if not store.exists(uri):
            raise DataflowError(f"upstream asset {name} has no Delta table at {uri}", hint=f"materialize {name} first")
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        if partitions is not None:
            partitions = _materialized_partitions(context, partitions)
        step = context.step_context
        if context.definition_metadata.get(SLICE_METADATA_KEY):
            # Pinned now: the step's workers read this version even if other runs commit meanwhile.
            written = self._take_written(uri, step.run_id, partitions)
            version = written.version if written is not None else store.snapshot(uri)[0]
            self._reads.setdefault((step.run_id, step.step.key), {})[name] = version
            return DeltaSlice(uri, version, partitions)
        read = self._take_written(uri, step.run_id, partitions) or store.read(uri, partitions)
        self._reads.setdefault((step.run_id, step.step.key), {})[name] = read.version
        return read.frame

    def handle_output(self, context: dg.OutputContext, obj: StepOutput) -> None:
        if not isinstance(obj, StepOutput):
            raise DataflowError(
                f"{context.asset_key.to_user_string()}: DeltaIOManager stores StepOutput, got {type(obj)}"
            )
        result = obj.take()
        store = self.store
        asset_path = context.asset_key.path
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        inputs = self._reads.pop((context.run_id, context.step_key), {})
        commit = {
            INPUTS_METADATA_KEY: json.dumps(inputs, sort_keys=True),
            ENGINES_METADATA_KEY: json.dumps(obj.engines, sort_keys=True),
            "dataflow.run_id": context.run_id,
        }
        if isinstance(result, StagedResult):
            main, side_writes, summary = self._commit_staged(store, asset_path, result, partitions, commit)
        else:
            text_columns = list(context.definition_metadata.get(TEXT_COLUMNS_METADATA_KEY) or [])
            readers = int(context.definition_metadata.get(CONSUMERS_METADATA_KEY, 0))
            main, side_writes, kept = self._write(store, asset_path, result, partitions, commit, output=not readers)
            self._remember_written(main, context.run_id, partitions, kept, readers)
            summary = OutputSummary.of(replace(result, kept=kept), text_columns)
        if main.schema_change.removed:
            context.log.warning(
                f"{context.asset_key.to_user_string()}: columns no longer produced: {main.schema_change.removed}"
            )
        column_docs = dict(context.definition_metadata.get(COLUMN_DOCS_METADATA_KEY) or {})
        metadata = _metadata(summary, main, side_writes, inputs, column_docs)
        metadata[FACTS_METADATA_KEY] = dg.MetadataValue.json(summary.facts())
        context.add_output_metadata(metadata)

    @staticmethod
    def _write(
        store: DeltaStore,
        asset_path: list[str],
        result: OpResult,
        partitions: list[str] | None,
        commit: dict[str, str],
        *,
        output: bool,
    ) -> tuple[WriteInfo, dict[str, WriteInfo], pl.DataFrame]:
        """Write the step's frames. Side tables first, the main table last: its commit marks the step as written.
        Side tables are kept, not read by later steps: compressed as outputs, as the main table is if ``output``."""
        sides = {
            side: store.write(
                store.uri(asset_path, side), frame, partitions=partitions, commit_metadata=commit, output=True
            )
            for side, frame in result.tables().items()
        }
        kept = delta_compatible(result.kept)
        main = store.write(store.uri(asset_path), kept, partitions=partitions, commit_metadata=commit, output=output)
        return main, sides, kept

    @staticmethod
    def _commit_staged(
        store: DeltaStore,
        asset_path: list[str],
        result: StagedResult,
        partitions: list[str] | None,
        commit: dict[str, str],
    ) -> tuple[WriteInfo, dict[str, WriteInfo], OutputSummary]:
        """Commit the files the step's workers wrote, one commit per table in the same order as :meth:`_write`,
        and count the distinct row ids in what was committed (the one fact batches cannot add up)."""
        sides = {
            side: store.commit_files(
                store.uri(asset_path, side), t.files, t.schema, partitions=partitions, commit_metadata=commit
            )
            for side, t in result.sides.items()
        }
        main = store.commit_files(
            store.uri(asset_path), result.main.files, result.main.schema, partitions=partitions, commit_metadata=commit
        )
        written = pl.scan_delta(main.uri, version=main.version)
        if partitions is not None:
            written = written.filter(pl.col(PARTITION).is_in(partitions))
        return main, sides, replace(result.summary, distinct_row_ids=distinct_ids(written))

    def _remember_written(
        self, info: WriteInfo, run_id: str, partitions: list[str] | None, frame: pl.DataFrame, readers: int
    ) -> None:
        self._written = {uri: w for uri, w in self._written.items() if w.run_id == run_id}  # drop earlier runs'
        if readers > 0:
            self._written[info.uri] = _Written(run_id, info.version, partitions, frame, readers)

    def _take_written(self, uri: str, run_id: str, partitions: list[str] | None) -> ReadInfo | None:
        written = self._written.get(uri)
        if written is None or written.run_id != run_id or _as_set(written.partitions) != _as_set(partitions):
            return None
        version, schema = self.store.snapshot(uri)
        if version != written.version or dict(schema) != dict(written.frame.schema):
            self._written.pop(uri)
            return None
        written.readers_left -= 1
        if written.readers_left <= 0:
            self._written.pop(uri)
        return ReadInfo(written.frame.select(schema.names()), version)


def _as_set(partitions: list[str] | None) -> frozenset[str] | None:
    return None if partitions is None else frozenset(partitions)


def _materialized_partitions(context: dg.InputContext, wanted: list[str]) -> list[str]:
    """The partitions to read. A partition never materialized upstream is an error, not an empty input (a silent
    "keep nothing"); a fan-in step instead reads every partition materialized so far and says which are missing."""
    if context.instance is None:
        return wanted
    name = context.asset_key.to_user_string()
    done = context.instance.get_materialized_partitions(context.asset_key)
    missing = [key for key in wanted if key not in done]
    if not missing:
        return wanted
    if not context.definition_metadata.get(FAN_IN_METADATA_KEY) or len(missing) == len(wanted):
        raise DataflowError(
            f"upstream asset {name} is not materialized for partition(s) {missing[:5]}",
            hint=f"materialize {name} for those partitions first",
        )
    context.log.warning(
        f"fan-in over {name}: reading {len(wanted) - len(missing)} of {len(wanted)} partitions; "
        f"not materialized yet: {missing[:5]}"
    )
    return [key for key in wanted if key in done]


def _metadata(
    summary: OutputSummary,
    main: WriteInfo,
    sides: dict[str, WriteInfo],
    inputs: dict[str, int],
    column_docs: dict[str, str],
) -> dict[str, dg.RawMetadataValue]:
    metadata: dict[str, dg.RawMetadataValue] = {
        "dagster/row_count": summary.rows,
        "dagster/uri": main.uri,
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name=name, type=str(dtype), description=column_docs.get(name, COLUMN_DOCS.get(name)))
                for name, dtype in summary.schema.items()
            ]
        ),
        "dataflow/delta_version": main.version,
        "dataflow/inputs_read": dg.MetadataValue.json(inputs),
        "dataflow/preview": dg.MetadataValue.md(markdown_preview(summary.preview)),
    }
    if main.schema_change:
        metadata["dataflow/schema_change"] = dg.MetadataValue.json(
            {"added": main.schema_change.added, "removed": main.schema_change.removed}
        )
    for side, info in sides.items():
        metadata[f"dataflow/{side}_uri"] = info.uri
    if summary.rejected_by_reason is not None:
        metadata["dataflow/rejected"] = sum(summary.rejected_by_reason.values())
        metadata["dataflow/rejected_by_reason"] = dg.MetadataValue.json(summary.rejected_by_reason)
    if summary.metrics is not None:
        metadata["dataflow/metrics"] = dg.MetadataValue.json(summary.metrics.values)
        for name, value in summary.metrics.values.items():
            metadata[f"dataflow/metric/{name}"] = value
        if summary.metrics.histograms:
            metadata["dataflow/histograms"] = dg.MetadataValue.md(markdown_histograms(summary.metrics.histograms))
    if summary.quarantined_by_reason is not None:
        metadata["dataflow/quarantined"] = sum(summary.quarantined_by_reason.values())
        metadata["dataflow/quarantined_by_reason"] = dg.MetadataValue.json(summary.quarantined_by_reason)
    return metadata


def markdown_histograms(histograms: dict[str, dict[str, int]], width: int = 30) -> str:
    """Each histogram as a markdown table with a bar of block characters per bucket: readable in the UI."""
    parts = []
    for name, buckets in histograms.items():
        top = max(buckets.values(), default=0) or 1
        rows = [
            f"| {bucket} | {count} | {'█' * max(1 if count else 0, round(width * count / top))} |"
            for bucket, count in buckets.items()
        ]
        parts.append("\n".join([f"**{name}**", "", "| bucket | count | |", "|---|---:|---|", *rows]))
    return "\n\n".join(parts)


def markdown_preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """A markdown table of the first rows, cells shortened; polars has no markdown writer of its own."""
    if frame.is_empty():
        return "_no rows_"

    def cell(value: object) -> str:
        text = str(value).replace("\n", " ").replace("|", "\\|")
        return text if len(text) <= PREVIEW_CELL_CHARS else text[: PREVIEW_CELL_CHARS - 1] + "…"

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.head(rows).iter_rows()]
    return "\n".join([header, rule, *body])
