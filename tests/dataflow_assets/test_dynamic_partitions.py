"""Dynamic partitions: the files of an input folder become partitions as they arrive, found by the CLI's runs and by
the pipeline's sensor; processing a new file leaves the others' rows untouched."""

import json
from pathlib import Path

import dagster as dg
import pytest
from deltalake import DeltaTable

from dataflow_assets.definitions import build_definitions
from dataflow_assets.runner import materialize_pipeline
from operators import ExactDedupFilter, FileSource, NormalizeTextRefiner, Pipeline
from resources.delta_store import DeltaStore


class Incoming(Pipeline):
    group = "incoming"
    text_columns = ("text",)

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.raw = FileSource(path=str(folder), pattern="*.jsonl", columns={"text": "string"}, partitioned="dynamic")
        self.normalize = NormalizeTextRefiner()
        self.dedup = ExactDedupFilter()

    def forward(self):
        docs = self.normalize(self.raw(), input_key="text", output_key="text")
        return self.dedup(docs.all_partitions(), input_key="text")


def drop_file(folder: Path, name: str, texts: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))


def evaluate_sensor(folder: Path, root: Path, instance: dg.DagsterInstance):
    defs = build_definitions([Incoming(folder)], root)
    sensor = defs.resolve_sensor_def("incoming__new_files")
    return sensor(dg.build_sensor_context(instance=instance, definitions=defs))


def files_of(root: Path, partition: str) -> set[str]:
    table = DeltaTable(str(root / "incoming" / "normalize"))
    return {path for path in table.file_uris() if f"_partition={partition}" in path}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    drop_file(tmp_path / "incoming", "day-1.jsonl", ["first  day", "shared   text"])
    drop_file(tmp_path / "incoming", "day-2.jsonl", ["second day"])
    return tmp_path / "incoming"


def test_the_files_present_become_partitions_when_the_pipeline_runs(folder, delta_root, instance):
    materialize_pipeline(Incoming(folder), root=delta_root, instance=instance)
    assert instance.get_dynamic_partitions("incoming__raw") == ["day-1.jsonl", "day-2.jsonl"]
    normalized = DeltaStore(delta_root).read(str(delta_root / "incoming" / "normalize")).frame
    assert sorted(normalized["_partition"].unique()) == ["day-1.jsonl", "day-2.jsonl"]


def test_the_sensor_registers_a_new_file_and_requests_a_run_for_it_alone(folder, delta_root, instance):
    materialize_pipeline(Incoming(folder), root=delta_root, instance=instance)
    assert evaluate_sensor(folder, delta_root, instance).run_requests == []

    drop_file(folder, "day-3.jsonl", ["third day", "shared text"])
    result = evaluate_sensor(folder, delta_root, instance)
    assert [r.partition_key for r in result.run_requests] == ["day-3.jsonl"]
    (request,) = result.dynamic_partitions_requests
    assert request.partitions_def_name == "incoming__raw" and list(request.partition_keys) == ["day-3.jsonl"]
    defs = build_definitions([Incoming(folder)], delta_root)
    selection = defs.resolve_sensor_def("incoming__new_files").asset_selection
    targets = {key.to_user_string() for key in selection.resolve(defs.resolve_asset_graph())}
    assert targets == {"incoming/raw", "incoming/normalize"}  # the partitioned steps; the fan-in step reads them all

    before = {p: files_of(delta_root, p) for p in ("day-1.jsonl", "day-2.jsonl")}
    materialize_pipeline(Incoming(folder), root=delta_root, instance=instance, partitions=["day-3.jsonl"])
    assert {p: files_of(delta_root, p) for p in before} == before  # earlier partitions not rewritten
    kept = DeltaStore(delta_root).read(str(delta_root / "incoming" / "dedup")).frame
    assert sorted(kept["text"]) == ["first day", "second day", "shared text", "third day"]


def test_a_vanished_file_keeps_its_partition_and_an_empty_folder_is_a_skip(folder, delta_root, instance):
    materialize_pipeline(Incoming(folder), root=delta_root, instance=instance)
    (folder / "day-2.jsonl").unlink()
    assert evaluate_sensor(folder, delta_root, instance).run_requests == []
    assert instance.get_dynamic_partitions("incoming__raw") == ["day-1.jsonl", "day-2.jsonl"]

    (folder / "day-1.jsonl").unlink()
    skipped = evaluate_sensor(folder, delta_root, instance)
    assert isinstance(skipped, dg.SkipReason) and "no files matching" in skipped.skip_message
