"""Delta tables of pipeline steps: where they live, how they are written partition by partition, how they are read.

This is the storage half of the IO manager, kept free of Dagster so that lineage queries and tests use it too.
We do not use ``dagster-deltalake-polars`` (DESIGN §7): it cannot load several partitions at once, a single-run
backfill of some partitions can overwrite the whole table (dagster#34064), and it loses row counts with
deltalake 1.x. Here every partitioned write is a Delta overwrite restricted by a predicate on ``_partition``, so
other partitions are never touched, and every write is one atomic Delta commit: a crash leaves the table at its
previous version.

Runs on different partitions of one asset may write its table at the same moment, from several processes. A
predicate-less overwrite removes whatever delta-rs finds in the table when the write starts, which can already be
another writer's partition, so partitioned writes always carry a predicate, the first one included. Writers that
create a table take turns (a file lock), and every other write is planned from one snapshot of the table and
committed on top of that same snapshot; when delta-rs reports a conflict with a concurrent commit
(``CommitFailedError``), the write is planned again from the table as it is then.
"""

from __future__ import annotations

import fcntl
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
from deltalake import ColumnProperties, CommitProperties, DeltaTable, Schema, WriterProperties
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import create_table_with_add_actions

from operators.columns import PARTITION
from operators.errors import DataflowError, SchemaChangeError
from resources.delta_files import ROW_GROUP_ROWS, StagedFile
from resources.parquet_layout import (
    DELTA_CODECS,
    INTERMEDIATE_COMPRESSION,
    OUTPUT_COMPRESSION,
    Compression,
    column_layout,
)

INPUTS_METADATA_KEY = "dataflow.inputs"
"""Commit metadata key holding ``{upstream table: Delta version read}`` for the write."""
ENGINES_METADATA_KEY = "dataflow.engines"
"""Commit metadata key holding ``{engine: model id}`` of the models that produced the write."""
WHOLE_TABLE = "true"
"""Overwrite predicate of a partitioned write that replaces the schema: it matches every row, so a partition
that another writer adds meanwhile is a commit conflict, not a partition left with the old schema."""
WRITE_ID_METADATA_KEY = "dataflow.write_id"
"""Commit metadata key of a commit of staged files: a random id by which the writer finds its commit's version."""
WRITE_ID_SEARCH = 100
"""How many of the latest commits are searched for that id (concurrent writers may have committed since)."""
COMMIT_ATTEMPTS = 8
"""How often a write is planned and committed again after conflicting with concurrent writers."""
CREATION_LOCK = ".dataflow-create.lock"
"""File in a table's folder that writers creating the table lock, one after the other."""
RETRY_PAUSE_SECONDS = 0.05
"""Longest pause before the second attempt, growing with each attempt; random, so that writers fall out of step."""


@dataclass(frozen=True)
class SchemaChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True)
class WriteInfo:
    uri: str
    version: int
    rows: int
    schema_change: SchemaChange


@dataclass(frozen=True)
class ReadInfo:
    frame: pl.DataFrame
    version: int


class DeltaStore:
    """Delta tables under one root folder: the table of asset ``group/step`` is ``<root>/group/step`` and its
    side tables (rejected rows, scores, quarantine) are ``<root>/group/step.<side>``.

    A table is written with ``compression`` while later steps read it, with ``output_compression`` when it is
    kept (an output, a side table), see ``resources.parquet_layout``."""

    def __init__(
        self,
        root: str | Path,
        *,
        target_file_size: int | None = None,
        compression: Compression = INTERMEDIATE_COMPRESSION,
        output_compression: Compression = OUTPUT_COMPRESSION,
    ) -> None:
        self.root = Path(root).absolute()
        self.target_file_size = target_file_size
        self.compression = compression
        self.output_compression = output_compression

    def codec(self, *, output: bool) -> Compression:
        """The codec of a table that no step reads (``output``) or of one that a step reads next."""
        return self.output_compression if output else self.compression

    def uri(self, asset_path: list[str], side: str | None = None) -> str:
        path = self.root.joinpath(*asset_path)
        return str(path.with_name(f"{path.name}.{side}") if side else path)

    def exists(self, uri: str) -> bool:
        return DeltaTable.is_deltatable(uri)

    def snapshot(self, uri: str) -> tuple[int, pl.Schema]:
        """The table's current version and the polars schema a read of it gives."""
        table = DeltaTable(uri)
        return table.version(), pl.scan_delta(table).collect_schema()

    def read(self, uri: str, partitions: list[str] | None = None, *, version: int | None = None) -> ReadInfo:
        """Read the table (at ``version``, by default the latest), restricted to ``partitions`` when given."""
        try:
            table = DeltaTable(uri, version=version)
        except TableNotFoundError as error:
            raise DataflowError(f"no Delta table at {uri}", hint="materialize the asset first") from error
        scan = pl.scan_delta(table)
        if partitions is not None:
            scan = scan.filter(pl.col(PARTITION).is_in(partitions))
        return ReadInfo(scan.collect(), table.version())

    def write(
        self,
        uri: str,
        frame: pl.DataFrame,
        *,
        partitions: list[str] | None,
        commit_metadata: dict[str, str] | None = None,
        output: bool = False,
    ) -> WriteInfo:
        """Write ``frame`` as the new content of ``partitions`` (or of the whole table when None); compressed with
        :meth:`codec` of ``output``.

        Schema policy, so that no column is lost silently: a whole-table write replaces the schema and reports
        the columns added and removed; a partition write merges new columns into the table (other partitions
        read them as null) and keeps columns the step no longer writes (null in the rewritten partitions), and
        refuses a changed column type unless every partition in the table is being rewritten.

        Writers of other partitions may commit at the same time; their rows are never removed, and a conflict with
        one of their commits is retried (up to :data:`COMMIT_ATTEMPTS` times) from the table as it is then.
        """
        frame = delta_compatible(frame)
        if partitions is not None:
            _check_partition_column(uri, frame, partitions)
        codec = self.codec(output=output)

        def commit(target: str | DeltaTable, frame: pl.DataFrame, plan: _Plan, metadata: dict[str, str]) -> int:
            return self._commit(target, frame, plan, metadata, codec)

        return self._committed(uri, frame, partitions, commit_metadata or {}, commit)

    def commit_files(
        self,
        uri: str,
        files: list[StagedFile],
        schema: pl.Schema,
        *,
        partitions: list[str] | None,
        commit_metadata: dict[str, str] | None = None,
    ) -> WriteInfo:
        """Make ``files`` (already written into the table's folder, see ``resources.delta_files``) the new content
        of ``partitions`` (or of the whole table when None), in one commit: the second phase of a distributed write.

        ``schema`` is the files' schema, the partition column included. The schema policy, the commit metadata
        and the handling of concurrent writers are those of :meth:`write`; the commit records the same overwrite
        predicate as :meth:`write` does, so that lineage finds the commit that produced a partition.
        """
        stray = sorted({f.partition for f in files} - set(partitions or [None]), key=str)
        if stray:
            raise DataflowError(f"{uri}: staged files of partition(s) {stray[:5]} but this write covers {partitions}")
        empty = delta_compatible(pl.DataFrame(schema=schema))
        rows = sum(f.rows for f in files)

        def commit(target: str | DeltaTable, frame: pl.DataFrame, plan: _Plan, metadata: dict[str, str]) -> int:
            return _commit_actions(target, frame, files, partitions, plan, metadata)

        return replace(self._committed(uri, empty, partitions, commit_metadata or {}, commit), rows=rows)

    def _committed(
        self,
        uri: str,
        frame: pl.DataFrame,
        partitions: list[str] | None,
        metadata: dict[str, str],
        commit: _Committer,
    ) -> WriteInfo:
        """Plan and commit (create or update) until no concurrent writer conflicts, see :meth:`write`."""
        for attempt in range(COMMIT_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * attempt))
            try:
                return self._create(uri, frame, partitions, metadata, commit) or self._update(
                    uri, frame, partitions, metadata, commit
                )
            except CommitFailedError as error:
                conflict = error
        raise DataflowError(
            f"{uri}: writing {_describe(partitions)} still conflicted with concurrent writers after "
            f"{COMMIT_ATTEMPTS} attempts; last conflict: {conflict}",
            hint="another run is writing the same partitions of this asset; run them one after the other",
        ) from conflict

    def _create(
        self,
        uri: str,
        frame: pl.DataFrame,
        partitions: list[str] | None,
        metadata: dict[str, str],
        commit: _Committer,
    ) -> WriteInfo | None:
        """Create the table with this write as its version 0; None when the table exists already.

        Creators take turns: delta-rs commits a creating write that lost the race for version 0 as a later
        version carrying its own schema, which would drop the columns that only the first creator wrote.
        """
        if self.exists(uri):
            return None
        with _creation_lock(uri):
            if self.exists(uri):
                return None
            plan = _plan(uri, None, frame, partitions)
            commit(uri, frame, plan, metadata)
            return WriteInfo(uri=uri, version=0, rows=frame.height, schema_change=plan.schema_change)

    def _update(
        self,
        uri: str,
        frame: pl.DataFrame,
        partitions: list[str] | None,
        metadata: dict[str, str],
        commit: _Committer,
    ) -> WriteInfo:
        """Plan the write from one snapshot of the table and commit it on top of that same snapshot."""
        table = DeltaTable(uri)
        plan = _plan(uri, table, frame, partitions)
        version = commit(table, frame, plan, metadata)
        return WriteInfo(uri=uri, version=version, rows=frame.height, schema_change=plan.schema_change)

    def _commit(
        self, target: str | DeltaTable, frame: pl.DataFrame, plan: _Plan, metadata: dict[str, str], codec: Compression
    ) -> int:
        options: dict[str, object] = {
            "commit_properties": CommitProperties(custom_metadata=metadata),
            "target_file_size": self.target_file_size,
            "partition_by": [PARTITION] if plan.partitioned else None,
            "predicate": plan.predicate,
            "schema_mode": plan.schema_mode,
            "writer_properties": _writer_properties(frame, codec),
        }
        frame.write_delta(target, mode="overwrite", delta_write_options=options)
        # The table object now stands at the version this write committed; later commits may exist already.
        return target.version() if isinstance(target, DeltaTable) else 0

    def producing_commit(self, uri: str, partition: str | None) -> CommitInfo:
        """The latest commit that wrote ``partition`` (or the whole table), with the upstream versions it read."""
        for commit in DeltaTable(uri).history():
            predicate = commit.get("operationParameters", {}).get("predicate")
            if predicate in (None, WHOLE_TABLE) or partition is None or _quote(partition) in predicate:
                return CommitInfo(
                    commit["version"],
                    json.loads(commit.get(INPUTS_METADATA_KEY, "{}")),
                    json.loads(commit.get(ENGINES_METADATA_KEY, "{}")),
                )
        raise DataflowError(f"{uri}: no commit wrote partition {partition!r}")


def _writer_properties(frame: pl.DataFrame, codec: Compression) -> WriterProperties:
    """delta-rs's writer settings for ``frame``: small row groups, ``codec``, ``parquet_layout``'s column layout."""
    layout = column_layout(frame)
    columns = {
        name: ColumnProperties(
            dictionary_enabled=False, statistics_enabled="NONE" if name in layout.no_statistics else None
        )
        for name in layout.no_dictionary
    }
    return WriterProperties(
        max_row_group_size=ROW_GROUP_ROWS, compression=DELTA_CODECS[codec], column_properties=columns or None
    )


_Committer = Callable[[str | DeltaTable, pl.DataFrame, "_Plan", dict[str, str]], int]
"""Commits one planned write, to a table folder (creating the table) or on top of a loaded snapshot, and returns
the version it committed."""


def _commit_actions(
    target: str | DeltaTable,
    empty: pl.DataFrame,
    files: list[StagedFile],
    partitions: list[str] | None,
    plan: _Plan,
    metadata: dict[str, str],
) -> int:
    """Commit staged files as ``plan`` says: the same predicate, schema policy and metadata as a frame write."""
    parameters = {"predicate": plan.predicate} if plan.predicate is not None else {}
    write_id = uuid.uuid4().hex
    properties = CommitProperties(
        custom_metadata={**metadata, WRITE_ID_METADATA_KEY: write_id, "operationParameters": parameters}
    )
    actions = [f.add_action() for f in files]
    partition_by = [PARTITION] if plan.partitioned else None
    if isinstance(target, str):
        schema = Schema.from_arrow(_arrow_schema(empty))
        create_table_with_add_actions(
            target, schema, actions, mode="error", partition_by=partition_by, commit_properties=properties
        )
        return 0
    if plan.schema_mode == "merge":  # keep the table's columns, add the new ones after them
        previous = pl.scan_delta(target).collect_schema()
        empty = pl.DataFrame(schema={**previous, **{c: t for c, t in empty.schema.items() if c not in previous}})
    replaces_partitions = plan.predicate not in (None, WHOLE_TABLE)
    target.create_write_transaction(
        actions,
        mode="overwrite",
        schema=_arrow_schema(empty),
        partition_by=partition_by,
        partition_filters=[(PARTITION, "in", partitions)] if replaces_partitions and partitions else None,
        commit_properties=properties,
    )
    # Unlike a frame write, a transaction leaves the table object where it was: find the commit by its id.
    for commit in DeltaTable(target.table_uri).history(WRITE_ID_SEARCH):
        if commit.get(WRITE_ID_METADATA_KEY) == write_id:
            return commit["version"]
    raise DataflowError(f"{target.table_uri}: the commit of staged files is not among the last {WRITE_ID_SEARCH}")


def _arrow_schema(empty: pl.DataFrame) -> object:
    return empty.to_arrow(compat_level=pl.CompatLevel.oldest()).schema


@dataclass(frozen=True)
class CommitInfo:
    version: int
    inputs: dict[str, int]
    """Upstream asset -> the Delta version of its table that this commit's step read."""
    engines: dict[str, str]
    """Engine -> model id that produced this commit's rows (LLM steps)."""


@dataclass(frozen=True)
class _Plan:
    """How one attempt writes: the overwrite predicate (None: the whole table) and delta-rs's schema mode."""

    partitioned: bool
    predicate: str | None
    schema_mode: str
    schema_change: SchemaChange


def _plan(uri: str, table: DeltaTable | None, frame: pl.DataFrame, partitions: list[str] | None) -> _Plan:
    """Apply the schema policy of :meth:`DeltaStore.write` to the table as ``table`` shows it (None: no table)."""
    previous = _schema_of(table)
    change = SchemaChange(
        added=[c for c in frame.columns if previous and c not in previous],
        removed=[c for c in previous if c not in frame.columns],
    )
    if partitions is None:
        return _Plan(False, None, "overwrite", change)
    rewrites_everything = table is not None and set(_partitions_in(table)) <= set(partitions)
    if rewrites_everything and (change.removed or _changed_types(previous, frame)):
        return _Plan(True, WHOLE_TABLE, "overwrite", change)
    _check_types_unchanged(uri, previous, frame)
    return _Plan(True, _partition_predicate(partitions), "merge", change)


def delta_compatible(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast types Delta cannot store: unsigned ints to Int64 (Delta has none), Null to String, categoricals to
    String."""
    casts = {}
    for name, dtype in frame.schema.items():
        if dtype.is_unsigned_integer():
            casts[name] = pl.Int64
        elif dtype == pl.Null or isinstance(dtype, pl.Categorical | pl.Enum):
            casts[name] = pl.String
        elif isinstance(dtype, pl.List) and dtype.inner == pl.Null:
            casts[name] = pl.List(pl.String)
    return frame.cast(casts) if casts else frame


def _schema_of(table: DeltaTable | None) -> dict[str, str]:
    if table is None:
        return {}
    return {f.name: str(f.type) for f in table.schema().fields}


@contextmanager
def _creation_lock(uri: str) -> Iterator[None]:
    """An exclusive lock on the table's :data:`CREATION_LOCK` file, released when the file is closed (also when
    the process dies)."""
    folder = Path(uri)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / CREATION_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _describe(partitions: list[str] | None) -> str:
    return "the whole table" if partitions is None else f"partition(s) {partitions[:5]}"


def _partitions_in(table: DeltaTable) -> list[str]:
    return [p[PARTITION] for p in table.partitions()]


def _partition_predicate(partitions: list[str]) -> str:
    return f"{PARTITION} IN ({', '.join(_quote(key) for key in partitions)})"


def _quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _check_partition_column(uri: str, frame: pl.DataFrame, partitions: list[str]) -> None:
    """A row outside the partitions being written would escape the overwrite predicate: refuse it."""
    if PARTITION not in frame.columns:
        raise DataflowError(f"{uri}: partitioned output has no {PARTITION!r} column")
    stray = frame.filter(~pl.col(PARTITION).is_in(partitions) | pl.col(PARTITION).is_null())
    if stray.height:
        raise DataflowError(
            f"{uri}: {stray.height} row(s) belong to partition(s) "
            f"{stray[PARTITION].unique().to_list()[:5]} but this write covers only {partitions}"
        )


def _changed_types(previous: dict[str, str], frame: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """Columns whose Delta type in ``frame`` differs from the table's: ``{column: (old, new)}``."""
    new_types = {f.name: str(f.type) for f in Schema.from_arrow(frame.head(0).to_arrow().schema).fields}
    return {c: (previous[c], t) for c, t in new_types.items() if c in previous and previous[c] != t}


def _check_types_unchanged(uri: str, previous: dict[str, str], frame: pl.DataFrame) -> None:
    changed = _changed_types(previous, frame)
    if changed:
        details = "; ".join(f"{c}: {old} -> {new}" for c, (old, new) in changed.items())
        raise SchemaChangeError(
            f"{uri}: column type changed ({details}) while other partitions keep the old type",
            hint="rematerialize every partition of this asset in one run (a backfill of all partitions)",
        )
