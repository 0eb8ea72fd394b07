"""The first phase of a Ray step's two-phase write, as a Ray ``Datasink``.

Each write task unpacks the blocks it is given (``resources.ray.batches``) and writes every output table's rows as
Parquet files into that table's folder (``resources.delta_files``), returning the staged files with their schema
and the batch's summary. Nothing is committed here: Ray's ``write_delta`` commits per write and, in overwrite mode,
replaces every partition and drops the commit metadata. The driver collects what the tasks return
(:meth:`on_write_complete`) and the IO manager commits each table once (``DeltaStore.commit_files``). A task that
dies after writing some files is run again; the files of its first attempt are in no commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl
from ray.data import Datasink
from ray.data.block import Block
from ray.data.datasource.datasink import WriteResult

from resources.delta_files import StagedFile, stage_frame
from resources.delta_store import DeltaStore, delta_compatible
from resources.ray.batches import MAIN, unpack


@dataclass(frozen=True)
class StagedBlock:
    """One output table of one batch, written."""

    name: str
    files: list[StagedFile]
    schema: pl.Schema
    meta: dict[str, Any] | None


class StagingDatasink(Datasink[list[StagedBlock]]):
    """Stages every output table; the main one compressed as an output unless a later step reads it
    (``DeltaStore.codec``)."""

    def __init__(self, store: DeltaStore, asset_path: list[str], *, partitioned: bool, read_downstream: bool) -> None:
        self.store = store
        self.asset_path = asset_path
        self.partitioned = partitioned
        self.read_downstream = read_downstream
        self.staged: list[StagedBlock] = []

    def write(self, blocks: Iterable[Block], ctx: Any) -> list[StagedBlock]:
        written = []
        for block in blocks:
            for packed in unpack(block):
                frame = delta_compatible(packed.frame)
                uri = self.store.uri(self.asset_path, packed.name or None)
                codec = self.store.codec(output=packed.name != MAIN or not self.read_downstream)
                files = stage_frame(uri, frame, partitioned=self.partitioned, compression=codec)
                written.append(StagedBlock(packed.name, files, frame.schema, packed.meta))
        return written

    def on_write_complete(self, write_result: WriteResult[list[StagedBlock]]) -> None:
        self.staged = [block for task in write_result.write_returns for block in task]

    def get_name(self) -> str:
        return f"DeltaStaging({'/'.join(self.asset_path)})"

    @property
    def main_blocks(self) -> list[StagedBlock]:
        return sorted((b for b in self.staged if b.name == MAIN), key=lambda b: b.meta["index"])
