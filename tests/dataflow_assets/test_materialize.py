"""Real Dagster runs on real Delta tables: the demo pipeline end to end, counts, metadata, partitions, staleness."""

import json
from typing import ClassVar

import dagster as dg
import polars as pl
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver
from deltalake import DeltaTable

from dataflow_assets.compiler import compile_pipeline
from dataflow_assets.general.demo import DemoPipeline
from dataflow_assets.runner import materialize_pipeline
from operators import ColumnExpressionRefiner, FileSource, Generator, Pipeline, WordCountFilter
from operators.errors import DataflowError
from resources.delta_io import COMPRESSION_ENV, OUTPUT_COMPRESSION_ENV, DeltaIOManager
from resources.delta_store import DeltaStore
from tests.support import parquet_codecs


def read(root, *path, side=None) -> pl.DataFrame:
    return pl.read_delta(DeltaStore(root).uri(list(path), side))


def test_demo_pipeline_materializes_every_step_and_no_row_is_lost(shards, delta_root, instance):
    summary = materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    steps = {s.asset: s for s in summary.steps}
    assert list(steps) == ["demo/raw", "demo/normalize", "demo/quality", "demo/dedup", "demo/paragraphs"]

    raw, quarantine = read(delta_root, "demo", "raw"), read(delta_root, "demo", "raw", side="quarantine")
    assert steps["demo/raw"].rows_in == raw.height + quarantine.height == 18
    assert sorted(quarantine["_reason"]) == ["malformed_json", "missing_column", "wrong_type"]
    assert steps["demo/raw"].removed_by_reason == {"malformed_json": 1, "missing_column": 1, "wrong_type": 1}

    for step in ("quality", "dedup"):
        kept, rejected = read(delta_root, "demo", step), read(delta_root, "demo", step, side="rejected")
        assert steps[f"demo/{step}"].rows_in == kept.height + rejected.height
        assert set(read(delta_root, "demo", step, side="scores")["_row_id"]) == set(kept["_row_id"]) | set(
            rejected["_row_id"]
        )
    assert steps["demo/quality"].removed_by_reason == {"word_count_too_short": 3}
    assert steps["demo/dedup"].removed_by_reason == {"exact_duplicate": 2}
    assert set(read(delta_root, "demo", "paragraphs")["_parent_ids"].explode()) == set(
        read(delta_root, "demo", "dedup")["_row_id"]
    )


def test_materialization_metadata(shards, delta_root, instance):
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    event = instance.get_latest_materialization_event(dg.AssetKey(["demo", "dedup"]))
    metadata = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
    assert metadata["dagster/row_count"] == read(delta_root, "demo", "dedup").height
    assert metadata["dagster/uri"] == str(delta_root.absolute() / "demo" / "dedup")
    assert metadata["dataflow/delta_version"] == DeltaTable(metadata["dagster/uri"]).version()
    assert metadata["dataflow/rejected_by_reason"] == {"exact_duplicate": 2}
    assert "text" in [c.name for c in metadata["dagster/column_schema"].columns]
    assert metadata["dataflow/preview"].startswith("| _row_id |")
    assert set(metadata["dataflow/inputs_read"]) == {"demo/quality"}


def partition_rows(root) -> dict[str, list[tuple]]:
    table = read(root, "demo", "normalize").sort("_row_id")
    return {key: table.filter(pl.col("_partition") == key).rows() for key in table["_partition"].unique()}


def codecs(root, *path, side=None) -> set[str]:
    return parquet_codecs(DeltaStore(root).uri(list(path), side))


def test_tables_read_by_later_steps_are_uncompressed_and_kept_tables_compressed(
    shards, delta_root, instance, monkeypatch
):
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    assert codecs(delta_root, "demo", "normalize") == {"UNCOMPRESSED"}  # read by the next step
    assert codecs(delta_root, "demo", "paragraphs") == {"SNAPPY"}  # the output: no step reads it
    assert codecs(delta_root, "demo", "dedup", side="rejected") == {"SNAPPY"}
    assert codecs(delta_root, "demo", "raw", side="quarantine") == {"SNAPPY"}

    monkeypatch.setenv(COMPRESSION_ENV, "lz4")
    monkeypatch.setenv(OUTPUT_COMPRESSION_ENV, "zstd")
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    assert codecs(delta_root, "demo", "normalize") == {"LZ4"}
    assert codecs(delta_root, "demo", "paragraphs") == codecs(delta_root, "demo", "dedup", side="scores") == {"ZSTD"}

    monkeypatch.setenv(OUTPUT_COMPRESSION_ENV, "gzip")
    with pytest.raises(DataflowError, match=f"{OUTPUT_COMPRESSION_ENV}='gzip' is not a Parquet codec"):
        materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)


def test_one_partition_is_rematerialized_without_touching_the_others(shards, delta_root, instance):
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    before = partition_rows(delta_root)
    assert sorted(before) == ["shard-001.jsonl", "shard-002.jsonl", "shard-003.jsonl"]

    shard = shards / "shard-002.jsonl"
    shard.write_text(shard.read_text() + json.dumps({"text": "A brand new document arrived in shard two."}) + "\n")
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance, partitions=["shard-002.jsonl"])

    after = partition_rows(delta_root)
    assert after["shard-001.jsonl"] == before["shard-001.jsonl"]
    assert after["shard-003.jsonl"] == before["shard-003.jsonl"]
    assert len(after["shard-002.jsonl"]) == len(before["shard-002.jsonl"]) + 1
    history = DeltaTable(str(delta_root / "demo" / "normalize")).history(1)[0]
    predicate = history["operationParameters"]["predicate"]
    assert "'shard-002.jsonl'" in predicate and "shard-001" not in predicate and "shard-003" not in predicate


def stale_steps(instance, pipeline) -> set[str]:
    resolver = get_stale_status_resolver(instance, compile_pipeline(pipeline).assets)
    traced = pipeline.trace()
    stale = set()
    for name, node in traced.nodes.items():
        partition = "shard-001.jsonl" if node.partitioned else None
        if resolver.get_status(dg.AssetKey(["demo", name]), partition_key=partition) == StaleStatus.STALE:
            stale.add(name)
    return stale


def test_changing_one_parameter_makes_that_step_and_its_descendants_stale(shards, delta_root, instance):
    """Dagster marks a step stale when its code version changes, and each descendant once its input has new data;
    steps upstream of the change stay fresh throughout."""
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    assert stale_steps(instance, DemoPipeline(shards)) == set()

    changed = DemoPipeline(shards, min_words=20)
    assert stale_steps(instance, changed) == {"quality"}

    assets = compile_pipeline(changed).assets
    resources = {"delta_io": DeltaIOManager(root=str(delta_root))}
    for step, now_stale in (("quality", {"dedup"}), ("dedup", {"paragraphs"}), ("paragraphs", set())):
        tags = {
            "dagster/asset_partition_range_start": "shard-001.jsonl",
            "dagster/asset_partition_range_end": "shard-003.jsonl",
        }
        dg.materialize(
            assets, selection=[dg.AssetKey(["demo", step])], instance=instance, resources=resources, tags=tags
        )
        assert stale_steps(instance, changed) == now_stale


def test_a_step_whose_upstream_was_never_materialized_fails_clearly(shards, delta_root, instance):
    assets = compile_pipeline(DemoPipeline(shards)).assets
    result = dg.materialize(
        assets,
        selection=[dg.AssetKey(["demo", "normalize"])],
        partition_key="shard-001.jsonl",
        instance=instance,
        resources={"delta_io": DeltaIOManager(root=str(delta_root))},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "upstream asset demo/raw has no Delta table" in str(failure.cause.message)


def test_unknown_partition_is_a_clear_error(shards, delta_root, instance):
    with pytest.raises(DataflowError, match=r"unknown partition\(s\) \['nope'\]"):
        materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance, partitions=["nope"])


def test_fan_in_reads_the_partitions_materialized_so_far(shards, delta_root, instance):
    summary = materialize_pipeline(
        DemoPipeline(shards), root=delta_root, instance=instance, partitions=["shard-001.jsonl"]
    )
    steps = {s.asset: s for s in summary.steps}
    assert steps["demo/dedup"].rows_in == steps["demo/quality"].rows_out
    assert set(read(delta_root, "demo", "dedup")["_partition"]) == {"shard-001.jsonl"}


def test_a_partitioned_step_refuses_an_upstream_partition_that_is_missing(shards, delta_root, instance):
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance, partitions=["shard-001.jsonl"])
    result = dg.materialize(
        compile_pipeline(DemoPipeline(shards)).assets,
        selection=[dg.AssetKey(["demo", "normalize"])],
        partition_key="shard-002.jsonl",
        instance=instance,
        resources={"delta_io": DeltaIOManager(root=str(delta_root))},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "demo/raw is not materialized for partition(s) ['shard-002.jsonl']" in failure.cause.message


def test_frames_just_written_are_handed_on_without_reading_them_back(shards, delta_root, instance, monkeypatch):
    reads: list[str] = []
    original = DeltaStore.read

    def counting_read(self, uri, partitions=None, **kwargs):
        reads.append(uri.removeprefix(str(delta_root.absolute()) + "/"))
        return original(self, uri, partitions, **kwargs)

    monkeypatch.setattr(DeltaStore, "read", counting_read)
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    assert reads == []  # every step's input was written earlier in the same run

    reads.clear()
    materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance, partitions=["shard-001.jsonl"])
    assert reads == ["demo/quality"]  # dedup reads every partition of quality, including the two not rewritten


def test_every_step_is_checked_and_a_failed_blocking_check_stops_the_flow(shards, delta_root, instance):
    summary = materialize_pipeline(DemoPipeline(shards), root=delta_root, instance=instance)
    assert summary.checks["demo/dedup:rejection_rate"] is True
    assert summary.checks["demo/paragraphs:text_present"] is True
    assert all(summary.checks.values())
    assert sorted(c for c in summary.checks if c.startswith("demo/raw:")) == [
        "demo/raw:row_ids_unique",
        "demo/raw:schema_as_declared",
    ]  # text is required only once filters have run

    class EmptiesText(DemoPipeline):
        def forward(self):
            docs = self.normalize(self.raw(), input_key="text", output_key="text")
            docs = self.quality(docs)
            return self.dedup(self.blank(docs, output_key="text").all_partitions(), input_key="text")

    broken = EmptiesText(shards)
    broken.blank = ColumnExpressionRefiner(expression="CASE WHEN word_count > 40 THEN '' ELSE text END")
    with pytest.raises(DataflowError, match="text_present"):
        materialize_pipeline(broken, root=delta_root / "broken", instance=instance)
    assert not (delta_root / "broken" / "demo" / "dedup").exists()


class KeepFirstDatasetGenerator(Generator):
    """Copies the rows of its first input (the second one is only read): a two-input step for the test below."""

    inputs: ClassVar[int | None] = 2

    def generate(self, df: pl.DataFrame, other: pl.DataFrame) -> pl.DataFrame:
        return df


class TwoInputPipeline(Pipeline):
    group = "two_inputs"

    def __init__(self, data_dir) -> None:
        super().__init__()
        self.raw = FileSource(path=str(data_dir), pattern="*.jsonl", columns={"text": "string"})
        self.quality = WordCountFilter(min_words=8)
        self.joined = KeepFirstDatasetGenerator()

    def forward(self):
        raw = self.raw()
        return self.joined(self.quality(raw), raw)


def test_rows_in_of_a_two_input_step_counts_its_first_input(shards, delta_root, instance):
    summary = materialize_pipeline(TwoInputPipeline(shards), root=delta_root, instance=instance)
    steps = {s.asset: s for s in summary.steps}
    kept, raw = read(delta_root, "two_inputs", "quality"), read(delta_root, "two_inputs", "raw")
    assert kept.height < raw.height
    assert steps["two_inputs/joined"].rows_in == kept.height == steps["two_inputs/joined"].rows_out
    event = instance.get_latest_materialization_event(dg.AssetKey(["two_inputs", "joined"]))
    assert event.asset_materialization.metadata["dataflow/rows_in_by_input"].value == [kept.height, raw.height]
