"""Two-phase Delta writes: data files written anywhere (on Ray workers), committed once by the driver.

A distributed step cannot hand its whole output to one process to write (that is the point of distributing it),
and workers committing their own files would leave the table half-written between their commits. So each worker
writes Parquet files into the table's folder and returns what the Delta log needs to know about them
(:class:`StagedFile`); the driver then commits all of them in one transaction that replaces exactly the run's
partitions (:meth:`resources.delta_store.DeltaStore.commit_files`). A file written by a task that died, or by a run
that never committed, is in no commit: readers never see it, and ``DeltaTable.vacuum()`` removes it.

Files are written with pyarrow rather than delta-rs's writer because delta-rs writes and commits in one call; the
files follow the Delta protocol's conventions (no partition column inside the file, Hive-style folder names for
people browsing the folder, row groups of :data:`ROW_GROUP_ROWS` so that readers can split a file).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from deltalake.transaction import AddAction

from operators.columns import PARTITION
from resources.parquet_layout import ARROW_CODECS, Compression

ROW_GROUP_ROWS = 65_536
"""Rows per Parquet row group in every file the project writes: the unit in which a reader (a Ray task) can take a
slice of a file without reading the rest. delta-rs's default puts a million rows in one group."""


@dataclass(frozen=True)
class StagedFile:
    """A data file written into a table's folder but not yet part of the table."""

    path: str
    """Relative to the table's root, as the Delta log spells it."""
    size: int
    rows: int
    partition: str | None
    modification_time_ms: int

    def add_action(self) -> AddAction:
        return AddAction(
            path=self.path,
            size=self.size,
            partition_values={PARTITION: self.partition} if self.partition is not None else {},
            modification_time=self.modification_time_ms,
            data_change=True,
            stats=json.dumps({"numRecords": self.rows}),
        )


def stage_frame(
    table_uri: str, frame: pl.DataFrame, *, partitioned: bool, compression: Compression
) -> list[StagedFile]:
    """Write ``frame`` into the table's folder as one Parquet file per partition (one file when unpartitioned);
    an empty frame writes nothing. The frame must already be Delta-compatible (``delta_compatible``)."""
    if frame.is_empty():
        return []
    if not partitioned:
        return [_write(Path(table_uri), "", frame, None, compression)]
    return [
        _write(Path(table_uri), f"{PARTITION}={_folder_name(key)}/", part.drop(PARTITION), key, compression)
        for (key,), part in frame.group_by(PARTITION, maintain_order=True)
    ]


def _write(root: Path, folder: str, frame: pl.DataFrame, partition: str | None, codec: Compression) -> StagedFile:
    relative = f"{folder}part-{uuid.uuid4().hex}.parquet"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # The oldest compatibility level writes plain (large) strings, which every Delta reader takes, not string views.
    table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    pq.write_table(table, target, row_group_size=ROW_GROUP_ROWS, compression=ARROW_CODECS[codec])
    stat = target.stat()
    return StagedFile(relative, stat.st_size, frame.height, partition, int(stat.st_mtime * 1000))


def _folder_name(key: str) -> str:
    """A folder name for a partition key. Delta reads partition values from its log, never from paths, so the
    name is only for people browsing the folder; keeping it to safe characters avoids URI escaping in the log."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key) or "_"
