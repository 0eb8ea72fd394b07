"""Row lineage through real Delta tables: a kept row, a rejected row and a generated row back to file and line."""

import polars as pl
import pytest
from typer.testing import CliRunner

from dataflow_assets.cli import app
from dataflow_assets.general.demo import DemoPipeline
from dataflow_assets.lineage import row_lineage
from dataflow_assets.runner import materialize_pipeline
from operators.errors import LineageError
from resources.delta_store import DeltaStore


@pytest.fixture
def materialized(shards, delta_root, instance):
    pipeline = DemoPipeline(shards)
    materialize_pipeline(pipeline, root=delta_root, instance=instance)
    return pipeline.trace(), DeltaStore(delta_root)


def test_generated_row_traces_back_through_every_step_to_its_file_and_line(materialized):
    traced, store = materialized
    paragraphs = pl.read_delta(store.uri(["demo", "paragraphs"]))
    row = paragraphs.filter(pl.col("paragraph").str.starts_with("When a glacier retreats")).row(0, named=True)

    hop = row_lineage(traced, store, "paragraphs", row["_row_id"])
    path = hop.path()
    assert [h.asset for h in path] == [
        "demo/raw",
        "demo/normalize",
        "demo/quality",
        "demo/dedup",
        "demo/paragraphs",
    ]
    assert [h.status for h in path] == ["source", "kept", "kept", "kept", "generated"]
    source = path[0]
    assert (source.source_file, source.source_line) == ("shard-002.jsonl", 4)
    assert path[3].row_id == source.row_id == row["_parent_ids"][0]
    assert path[2].scores == {"word_count": 45.0}
    assert path[3].scores == {"duplicate_group_size": 1.0}
    assert path[3].inputs_read == {"demo/quality": path[2].version}
    assert path[4].params == {"min_chars": 40}


def test_rejected_row_says_where_and_why_it_was_dropped(materialized):
    traced, store = materialized
    rejected = pl.read_delta(store.uri(["demo", "dedup"], "rejected"))
    mirror = rejected.filter(pl.col("url") == "https://mirror.example/rivers").row(0, named=True)
    original = pl.read_delta(store.uri(["demo", "raw"])).filter(pl.col("url") == "https://example.org/rivers")

    hop = row_lineage(traced, store, "dedup", mirror["_row_id"])
    assert (hop.status, hop.rule, hop.score) == ("rejected", "exact_duplicate", 2.0)
    assert hop.detail == f"duplicate_of={original['_row_id'][0]}"
    assert hop.path()[0].source_line == 5


def test_quarantined_source_row_says_file_line_and_reason(materialized):
    traced, store = materialized
    quarantine = pl.read_delta(store.uri(["demo", "raw"], "quarantine"))
    bad = quarantine.filter(pl.col("_reason") == "malformed_json").row(0, named=True)
    hop = row_lineage(traced, store, "raw", bad["_row_id"])
    assert (hop.status, hop.rule, hop.source_file, hop.source_line) == (
        "quarantined",
        "malformed_json",
        "shard-003.jsonl",
        2,
    )
    assert hop.detail.startswith("shard-003.jsonl line 2:")


def test_unknown_row_and_step_are_clear_errors(materialized):
    traced, store = materialized
    with pytest.raises(LineageError, match="neither in demo/dedup nor among its rejected or quarantined rows"):
        row_lineage(traced, store, "dedup", "no-such-row")
    with pytest.raises(LineageError, match="has no step 'nope'"):
        row_lineage(traced, store, "nope", "x")


def test_lineage_command_prints_the_path(materialized, delta_root):
    _, store = materialized
    short = pl.read_delta(store.uri(["demo", "quality"], "rejected")).row(0, named=True)
    result = CliRunner().invoke(app, ["lineage", "demo/quality", short["_row_id"], "--root", str(delta_root)])
    assert result.exit_code == 0, result.output
    assert "word_count_too_short" in result.output
    assert f"{short['_source_file']} line {short['_source_line']}" in result.output
