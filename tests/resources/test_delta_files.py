"""Two-phase writes: files staged into a table's folder are invisible until one commit makes them the content of
exactly the given partitions, with the same commit metadata, schema policy and lineage as a frame write."""

from functools import partial

import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from operators.columns import PARTITION
from operators.errors import DataflowError
from resources.delta_files import ROW_GROUP_ROWS, stage_frame
from resources.delta_store import INPUTS_METADATA_KEY, DeltaStore

stage = partial(stage_frame, compression="snappy")


def rows(key: str, n: int, **columns) -> pl.DataFrame:
    return pl.DataFrame({"_row_id": [f"{key}-{i}" for i in range(n)], PARTITION: [key] * n, **columns})


@pytest.fixture
def store(tmp_path) -> DeltaStore:
    return DeltaStore(tmp_path / "delta")


def test_staged_files_replace_only_their_partition_in_one_commit(store):
    uri = store.uri(["g", "step"])
    store.write(uri, pl.concat([rows("a", 3), rows("b", 2)]), partitions=["a", "b"])
    staged = stage(uri, rows("a", 4, extra=["x"] * 4), partitioned=True)
    assert DeltaTable(uri).version() == 0 and pl.read_delta(uri).height == 5  # staged, not yet visible

    info = store.commit_files(
        uri, staged, rows("a", 1, extra=["x"]).schema, partitions=["a"], commit_metadata={INPUTS_METADATA_KEY: "{}"}
    )

    table = pl.read_delta(uri)
    assert (info.version, info.rows, info.schema_change.added) == (1, 4, ["extra"])
    assert sorted(table.filter(pl.col(PARTITION) == "a")["_row_id"]) == [f"a-{i}" for i in range(4)]
    assert table.filter(pl.col(PARTITION) == "b")["extra"].to_list() == [None, None]  # other partition untouched
    assert store.producing_commit(uri, "a").version == 1 and store.producing_commit(uri, "b").version == 0
    assert DeltaTable(uri).history(1)[0][INPUTS_METADATA_KEY] == "{}"


def test_first_commit_creates_the_table_and_an_empty_output_still_replaces(store):
    uri = store.uri(["g", "step"])
    schema = rows("a", 1).schema
    store.commit_files(uri, stage(uri, rows("a", 2), partitioned=True), schema, partitions=["a"])
    assert pl.read_delta(uri).height == 2

    store.commit_files(uri, stage(uri, rows("a", 0), partitioned=True), schema, partitions=["a"])
    assert pl.read_delta(uri).height == 0 and DeltaTable(uri).version() == 1


def test_unpartitioned_commit_replaces_the_schema_and_says_so(store):
    uri = store.uri(["g", "whole"])
    store.write(uri, pl.DataFrame({"_row_id": ["x"], "old": [1]}), partitions=None)
    frame = pl.DataFrame({"_row_id": ["y", "z"], "new": [[1.5], [2.5]]})
    info = store.commit_files(uri, stage(uri, frame, partitioned=False), frame.schema, partitions=None)
    assert info.schema_change.removed == ["old"] and info.schema_change.added == ["new"]
    assert pl.read_delta(uri).sort("_row_id").equals(frame)


def test_files_of_another_partition_are_refused(store):
    uri = store.uri(["g", "step"])
    staged = stage(uri, rows("b", 1), partitioned=True)
    with pytest.raises(DataflowError, match=r"partition\(s\) \['b'\]"):
        store.commit_files(uri, staged, rows("b", 1).schema, partitions=["a"])
    assert not store.exists(uri)


def test_every_write_keeps_row_groups_small_enough_to_split(store):
    uri = store.uri(["g", "big"])
    store.write(uri, rows("a", ROW_GROUP_ROWS + 1), partitions=["a"])
    (path,) = DeltaTable(uri).file_uris()
    assert pq.ParquetFile(path).metadata.num_row_groups == 2


def test_staged_files_are_written_with_the_codec_asked_for(store):
    uri = store.uri(["g", "out"])
    (staged,) = stage_frame(uri, rows("a", 3), partitioned=True, compression="zstd")
    assert pq.ParquetFile(f"{uri}/{staged.path}").metadata.row_group(0).column(0).compression == "ZSTD"
