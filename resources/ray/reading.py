"""Cutting a pinned table slice into read tasks of about ``rows_per_block`` rows, and reading one on a worker.

Each task is a file, or a run of a file's row groups (the project writes row groups of 64k rows, see
``resources.delta_files``), so a partition held in one big file still spreads over several workers. The files are
the pinned version's, taken from the Delta log, so the workers read exactly what the run pinned even while other
runs commit. A worker casts what it reads to the table's schema as polars reads it (``scan_delta``), and adds the
partition column, which Delta keeps in its log rather than in the files: the step sees the same frame as on polars.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable

from operators.columns import PARTITION
from resources.step_output import DeltaSlice


@dataclass(frozen=True)
class ReadTask:
    index: int
    """Position in the slice, so that results can be put back in the order polars would read them."""
    path: str
    partition: str | None
    row_groups: list[int] | None
    """The file's row groups to read; None: all of them."""
    rows: int


def plan_reads(source: DeltaSlice, rows_per_block: int) -> list[ReadTask]:
    """The slice's files as read tasks of at most ``rows_per_block`` rows (or one row group, when larger)."""
    table = DeltaTable(source.uri, version=source.version)
    actions = pl.DataFrame(table.get_add_actions(flatten=True))
    column = f"partition.{PARTITION}"
    if source.partitions is not None:
        actions = actions.filter(pl.col(column).is_in(source.partitions))
    tasks: list[ReadTask] = []
    for row in actions.iter_rows(named=True):
        path = _absolute(source.uri, row["path"])
        partition = row.get(column)
        rows = row.get("num_records")
        if rows is not None and rows <= rows_per_block:
            tasks.append(ReadTask(len(tasks), path, partition, None, rows))
            continue
        metadata = pq.ParquetFile(path).metadata
        for groups, count in _runs(
            [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)], rows_per_block
        ):
            tasks.append(ReadTask(len(tasks), path, partition, groups, count))
    return tasks


def read_task(task: ReadTask, schema: pl.Schema) -> pl.DataFrame:
    """The task's rows, typed and ordered as ``schema`` (the table's, as polars reads it)."""
    file = pq.ParquetFile(task.path)
    frame = pl.from_arrow(file.read_row_groups(task.row_groups) if task.row_groups is not None else file.read())
    if task.partition is not None:
        frame = frame.with_columns(pl.lit(task.partition, pl.String).alias(PARTITION))
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )


def _runs(sizes: list[int], limit: int) -> list[tuple[list[int], int]]:
    """Consecutive row groups packed into runs of at most ``limit`` rows (a larger group is a run of its own)."""
    runs: list[tuple[list[int], int]] = []
    current: list[int] = []
    rows = 0
    for index, size in enumerate(sizes):
        if current and rows + size > limit:
            runs.append((current, rows))
            current, rows = [], 0
        current.append(index)
        rows += size
    if current:
        runs.append((current, rows))
    return runs


def _absolute(root: str, path: str) -> str:
    """A data file's location: Delta logs hold paths relative to the table, URI-escaped, or absolute URIs."""
    if "://" in path or path.startswith("/"):
        return path
    return f"{root.rstrip('/')}/{unquote(path)}"
