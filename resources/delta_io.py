"""The IO manager every pipeline asset uses: step outputs to Delta tables, Delta tables to polars frames.

Storage itself is :class:`resources.delta_store.DeltaStore`; this module adds what Dagster needs: which
partitions a step reads and writes, the side tables next to a step's table, the upstream versions each write
depends on (kept in the Delta commit, for lineage) and the materialization metadata.
"""

from __future__ import annotations

import json

import dagster as dg
import polars as pl
from pydantic import Field, PrivateAttr

from operators.base import OpResult
from operators.columns import QUARANTINE_REASON, REJECT_RULE
from operators.errors import DataflowError
from resources.delta_store import INPUTS_METADATA_KEY, DeltaStore, WriteInfo

FAN_IN_METADATA_KEY = "dataflow/fan_in"
"""Set on an asset input that gathers every partition of a partitioned upstream into an unpartitioned step."""
PREVIEW_ROWS = 5
PREVIEW_CELL_CHARS = 80


class DeltaIOManager(dg.ConfigurableIOManager):
    """Stores each asset ``group/step`` as the Delta table ``<root>/group/step``; partitioned assets are Delta
    tables partitioned by ``_partition`` and written partition by partition."""

    root: str = Field(description="Folder holding every pipeline's Delta tables")
    target_file_size: int | None = Field(
        None, description="Bytes per Delta data file (delta-rs default when unset); smaller files suit small partitions"
    )
    _reads: dict[tuple[str, str], dict[str, int]] = PrivateAttr(default_factory=dict)

    @property
    def store(self) -> DeltaStore:
        return DeltaStore(self.root, target_file_size=self.target_file_size)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        store = self.store
        asset_path = context.asset_key.path
        uri = store.uri(asset_path)
        name = context.asset_key.to_user_string()
        if not store.exists(uri):
            raise DataflowError(f"upstream asset {name} has no Delta table at {uri}", hint=f"materialize {name} first")
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        if partitions is not None:
            partitions = _materialized_partitions(context, partitions)
        read = store.read(uri, partitions)
        step = context.step_context
        self._reads.setdefault((step.run_id, step.step.key), {})[name] = read.version
        return read.frame

    def handle_output(self, context: dg.OutputContext, obj: OpResult) -> None:
        if not isinstance(obj, OpResult):
            raise DataflowError(
                f"{context.asset_key.to_user_string()}: DeltaIOManager stores OpResult, got {type(obj)}"
            )
        store = self.store
        asset_path = context.asset_key.path
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        inputs = self._reads.pop((context.run_id, context.step_key), {})
        commit = {INPUTS_METADATA_KEY: json.dumps(inputs, sort_keys=True), "dataflow.run_id": context.run_id}
        # Side tables first, the main table last: the main table's commit marks the step as written.
        side_writes = {
            side: store.write(store.uri(asset_path, side), frame, partitions=partitions, commit_metadata=commit)
            for side, frame in obj.tables().items()
        }
        main = store.write(store.uri(asset_path), obj.kept, partitions=partitions, commit_metadata=commit)
        if main.schema_change.removed:
            context.log.warning(
                f"{context.asset_key.to_user_string()}: columns no longer produced: {main.schema_change.removed}"
            )
        context.add_output_metadata(_metadata(obj, main, side_writes, inputs))


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
    result: OpResult, main: WriteInfo, sides: dict[str, WriteInfo], inputs: dict[str, int]
) -> dict[str, dg.RawMetadataValue]:
    kept = result.kept
    metadata: dict[str, dg.RawMetadataValue] = {
        "dagster/row_count": kept.height,
        "dagster/uri": main.uri,
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=name, type=str(dtype)) for name, dtype in kept.schema.items()]
        ),
        "dataflow/delta_version": main.version,
        "dataflow/inputs_read": dg.MetadataValue.json(inputs),
        "dataflow/preview": dg.MetadataValue.md(markdown_preview(kept)),
    }
    if main.schema_change:
        metadata["dataflow/schema_change"] = dg.MetadataValue.json(
            {"added": main.schema_change.added, "removed": main.schema_change.removed}
        )
    for side, info in sides.items():
        metadata[f"dataflow/{side}_uri"] = info.uri
    if result.rejected is not None:
        metadata["dataflow/rejected"] = result.rejected.height
        metadata["dataflow/rejected_by_reason"] = dg.MetadataValue.json(_counts(result.rejected, REJECT_RULE))
    quarantine = result.side_tables.get("quarantine")
    if quarantine is not None:
        metadata["dataflow/quarantined"] = quarantine.height
        metadata["dataflow/quarantined_by_reason"] = dg.MetadataValue.json(_counts(quarantine, QUARANTINE_REASON))
    return metadata


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return dict(frame.group_by(column).len().sort("len", column, descending=[True, False]).iter_rows())


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
