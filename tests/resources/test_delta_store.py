"""Delta storage: partition-scoped overwrites, partition reads, the schema policy, commits that name their inputs."""

import polars as pl
import pytest
from deltalake import DeltaTable

from operators.errors import DataflowError, SchemaChangeError
from resources.delta_store import INPUTS_METADATA_KEY, DeltaStore


@pytest.fixture
def store(tmp_path) -> DeltaStore:
    return DeltaStore(tmp_path)


def parts(**rows: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_partition": [key for key, values in rows.items() for _ in values],
            "x": [v for vs in rows.values() for v in vs],
        }
    )


def test_layout_of_tables_and_side_tables(store, tmp_path):
    assert store.uri(["text", "dedup"]) == str(tmp_path / "text" / "dedup")
    assert store.uri(["text", "dedup"], "rejected") == str(tmp_path / "text" / "dedup.rejected")


def test_partition_write_replaces_only_its_partitions(store):
    uri = store.uri(["g", "s"])
    store.write(uri, parts(a=[1, 2], b=[3], c=[4]), partitions=["a", "b", "c"])
    store.write(uri, parts(a=[10], b=[]), partitions=["a", "b"])
    assert store.read(uri).frame.sort("x").select("_partition", "x").rows() == [("c", 4), ("a", 10)]
    assert store.read(uri, ["c"]).frame["x"].to_list() == [4]
    assert sorted(store.read(uri, ["a", "c"]).frame["x"].to_list()) == [4, 10]


def test_rows_outside_the_written_partitions_are_refused(store):
    uri = store.uri(["g", "s"])
    with pytest.raises(DataflowError, match=r"1 row\(s\) belong to partition\(s\) \['b'\]"):
        store.write(uri, parts(a=[1], b=[2]), partitions=["a"])
    assert not store.exists(uri)


def test_new_columns_merge_and_dropped_columns_are_reported_not_lost(store):
    uri = store.uri(["g", "s"])
    store.write(uri, parts(a=[1], b=[2]), partitions=["a", "b"])
    added = store.write(uri, parts(a=[5]).with_columns(y=pl.lit("new")), partitions=["a"])
    assert added.schema_change.added == ["y"]
    assert store.read(uri).frame.sort("x").select("_partition", "x", "y").rows() == [("b", 2, None), ("a", 5, "new")]
    dropped = store.write(uri, parts(b=[7]).drop("x").with_columns(y=pl.lit("z")), partitions=["b"])
    assert dropped.schema_change.removed == ["x"]
    table = store.read(uri).frame.sort("_partition").select("_partition", "x", "y")
    assert table.rows() == [("a", 5, "new"), ("b", None, "z")]  # partition a keeps its x


def test_changed_type_is_refused_unless_every_partition_is_rewritten(store):
    uri = store.uri(["g", "s"])
    store.write(uri, parts(a=[1], b=[2]), partitions=["a", "b"])
    as_text = pl.DataFrame({"_partition": ["a"], "x": ["one"]})
    with pytest.raises(SchemaChangeError, match="column type changed") as error:
        store.write(uri, as_text, partitions=["a"])
    assert "x:" in str(error.value) and "backfill of all partitions" in str(error.value)
    everything = pl.DataFrame({"_partition": ["a", "b"], "x": ["one", "two"]})
    store.write(uri, everything, partitions=["a", "b"])
    assert store.read(uri).frame.schema["x"] == pl.String


def test_whole_table_write_replaces_schema_and_reports_removed_columns(store):
    uri = store.uri(["g", "s"])
    store.write(uri, pl.DataFrame({"x": [1], "y": [2]}), partitions=None)
    info = store.write(uri, pl.DataFrame({"x": [3]}), partitions=None)
    assert info.schema_change.removed == ["y"]
    assert store.read(uri).frame.rows() == [(3,)]
    assert info.version == 1


def test_types_delta_cannot_store_are_cast(store):
    uri = store.uri(["g", "s"])
    frame = pl.DataFrame(
        {"u": pl.Series([1], dtype=pl.UInt32), "n": [None], "c": pl.Series(["a"], dtype=pl.Categorical)}
    )
    store.write(uri, frame, partitions=None)
    assert dict(store.read(uri).frame.schema) == {"u": pl.Int64, "n": pl.String, "c": pl.String}


def test_commit_records_the_upstream_versions_for_each_partition(store):
    uri = store.uri(["g", "s"])
    store.write(uri, parts(a=[1]), partitions=["a"], commit_metadata={INPUTS_METADATA_KEY: '{"g/up": 3}'})
    store.write(uri, parts(b=[2]), partitions=["b"], commit_metadata={INPUTS_METADATA_KEY: '{"g/up": 4}'})
    assert store.producing_commit(uri, "a").inputs == {"g/up": 3}
    assert store.producing_commit(uri, "a").version == 0
    assert store.producing_commit(uri, "b").inputs == {"g/up": 4}
    assert DeltaTable(uri).version() == 1


def test_reading_a_missing_table_says_so(store):
    with pytest.raises(DataflowError, match="no Delta table at"):
        store.read(store.uri(["g", "missing"]))
