"""Read tasks over a pinned table slice: files split by row groups into tasks of bounded size, each read back on
its own exactly as polars reads the slice, even after later commits."""

import polars as pl

from operators.columns import PARTITION
from resources.delta_files import ROW_GROUP_ROWS
from resources.delta_store import DeltaStore
from resources.ray.reading import plan_reads, read_task
from resources.step_output import DeltaSlice


def test_tasks_split_big_files_by_row_groups_and_read_the_pinned_slice(tmp_path):
    store = DeltaStore(tmp_path)
    uri = store.uri(["g", "raw"])
    big, small = 2 * ROW_GROUP_ROWS + 5, 3
    frame = pl.DataFrame(
        {
            "_row_id": [f"r{i}" for i in range(big + small)],
            "n": range(big + small),
            PARTITION: ["a"] * big + ["b"] * small,
        }
    )
    version = store.write(uri, frame, partitions=["a", "b"]).version
    store.write(uri, frame.filter(pl.col(PARTITION) == "a").head(1), partitions=["a"])  # a later commit

    source = DeltaSlice(uri, version, ["a"])
    tasks = plan_reads(source, rows_per_block=ROW_GROUP_ROWS + 1)

    assert [(t.partition, t.row_groups, t.rows) for t in tasks] == [
        ("a", [0], ROW_GROUP_ROWS),
        ("a", [1], ROW_GROUP_ROWS),
        ("a", [2], 5),
    ]
    schema = pl.scan_delta(uri, version=version).collect_schema()
    read = pl.concat([read_task(t, schema) for t in tasks])
    assert read.equals(source.read()) and read.height == big


def test_a_small_file_is_one_task_and_a_new_column_reads_as_null(tmp_path):
    store = DeltaStore(tmp_path)
    uri = store.uri(["g", "raw"])
    store.write(uri, pl.DataFrame({"_row_id": ["x"], PARTITION: ["a"]}), partitions=["a"])
    info = store.write(uri, pl.DataFrame({"_row_id": ["y"], "extra": [1.5], PARTITION: ["b"]}), partitions=["b"])

    source = DeltaSlice(uri, info.version, None)
    (first, second) = plan_reads(source, rows_per_block=10)
    schema = pl.scan_delta(uri, version=info.version).collect_schema()
    assert first.row_groups is None and first.rows == 1
    read = pl.concat([read_task(first, schema), read_task(second, schema)]).sort("_row_id")
    assert read.equals(source.read().sort("_row_id"))
    assert read["extra"].to_list() == [None, 1.5]
