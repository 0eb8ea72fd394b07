"""The Dagster UI end to end, as a user drives it: `dataflow ui` (webserver, daemon, code server) on 127.0.0.1
with a fresh DAGSTER_HOME, runs and backfills launched over GraphQL and executed by the daemon, their results read
back over GraphQL and checked against the Delta tables, the asset graph in Chromium, and nothing left running once
the UI is stopped.

The tests share one UI (starting it takes a while) and run in file order; each one prepares what it needs, so any
of them also runs alone. Screenshots go to ``$DATAFLOW_SCREENSHOTS`` (default ``tests/ui/screenshots/``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest
from dagster_ui import CHROMIUM, CHROMIUM_FLAGS, DataflowUI, free_port
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

from dataflow_assets.graphql_client import DEFAULT_LOCATION, BackfillResult, DagsterGraphQL, WebserverUnreachableError
from dataflow_assets.pipelines import input_env
from dataflow_assets.text.pretrain import SAMPLE_DATA as TEXT_SAMPLE
from operators.columns import PARTITION, ROW_ID
from operators.errors import DataflowError
from resources.delta_store import DeltaStore

GROUP = "demo"
PARTITIONED = [[GROUP, "raw"], [GROUP, "normalize"], [GROUP, "quality"]]
FAN_IN = [[GROUP, "dedup"], [GROUP, "paragraphs"]]
"""Unpartitioned steps reading every partition of ``quality``."""
STARTUP_TIMEOUT_S = 300
RUN_TIMEOUT_S = 600
SCREENSHOTS = Path(os.environ.get("DATAFLOW_SCREENSHOTS", Path(__file__).parent / "screenshots"))


@pytest.fixture(scope="module")
def ui(tmp_path_factory) -> DataflowUI:
    home = tmp_path_factory.mktemp("ui")
    incoming = home / "incoming"  # text_pretrain's input folder: one shard now, another later for the sensor
    incoming.mkdir()
    shutil.copy(TEXT_SAMPLE / "web-001.jsonl", incoming)
    server = DataflowUI(
        home / "dagster_home",
        home / "delta",
        log_path=home / "dataflow-ui.log",
        env={input_env("text_pretrain"): str(incoming)},
    )
    server.start()
    try:
        try:
            DagsterGraphQL(server.url).wait_until_ready(STARTUP_TIMEOUT_S)
        except DataflowError as error:
            pytest.fail(f"{error}\nUI log:\n{server.log_tail()}")
        yield server
    finally:
        _, survivors = server.stop()  # also when a test failed; test_stopping_... checks it properly
        assert not survivors, f"still running after the UI stopped: {survivors}"


@pytest.fixture(scope="module")
def client(ui) -> DagsterGraphQL:
    return DagsterGraphQL(ui.url)


@pytest.fixture(scope="module")
def store(ui) -> DeltaStore:
    return DeltaStore(ui.data_root)


@pytest.fixture(scope="module")
def shards(client) -> list[str]:
    keys = client.partition_keys([GROUP, "raw"])
    assert len(keys) >= 3, keys
    return keys


@pytest.fixture(scope="module")
def backfilled(client, ui, shards) -> BackfillResult:
    """Every partition of the group's partitioned steps, then its fan-in steps, in one backfill."""
    backfill = client.launch_partition_backfill(PARTITIONED + FAN_IN, shards)
    result = client.wait_for_backfill(backfill, RUN_TIMEOUT_S)
    assert result.status == "COMPLETED_SUCCESS", _why(client, ui, result.runs, result.error)
    return result


def test_a_materialization_launched_over_graphql_runs_in_the_daemon(client, ui, store, shards):
    run = client.launch_materialization(PARTITIONED, partition_key=shards[0])
    assert client.wait_for_run(run, RUN_TIMEOUT_S) == "SUCCESS", _why(client, ui, {run: "?"})
    for key in PARTITIONED:
        latest = client.latest_materialization(key, shards[0])
        assert latest.run_id == run and latest.partition == shards[0]
        assert store.read(store.uri(key), [shards[0]]).frame.height == latest.metadata["dagster/row_count"]


def test_a_backfill_of_every_partition_includes_the_fan_in_steps(client, store, shards, backfilled):
    assert set(backfilled.runs.values()) == {"SUCCESS"}
    assert len(backfilled.runs) == len(shards) + 1  # a run per partition, then one for the fan-in steps
    for key in PARTITIONED:
        for shard in shards:
            assert client.latest_materialization(key, shard).run_id in backfilled.runs
        assert sorted(store.read(store.uri(key)).frame[PARTITION].unique()) == shards
    for key in FAN_IN:
        assert client.latest_materialization(key).run_id in backfilled.runs
        assert store.exists(store.uri(key))


def test_backfilling_two_partitions_leaves_the_third_untouched(client, ui, store, shards, backfilled):
    """dagster#34064: with dagster-deltalake, a backfill of some partitions could overwrite the whole table."""
    first, second, untouched = shards[:3]
    tables = _partitioned_tables(store)
    assert {store.uri(key) for key in PARTITIONED} <= set(tables)  # side tables (rejected, scores, ...) too
    before = {uri: _partition_state(uri, untouched) for uri in tables}
    versions = {uri: DeltaTable(uri).version() for uri in tables}
    previous_runs = {
        (tuple(key), shard): client.latest_materialization(key, shard).run_id
        for key in PARTITIONED
        for shard in shards[:3]
    }

    backfill = client.launch_partition_backfill(PARTITIONED, partition_range=(first, second))
    result = client.wait_for_backfill(backfill, RUN_TIMEOUT_S)

    assert result.status == "COMPLETED_SUCCESS", _why(client, ui, result.runs, result.error)
    assert len(result.runs) == 2 and set(result.runs.values()) == {"SUCCESS"}
    for key in PARTITIONED:
        for shard in (first, second):
            latest = client.latest_materialization(key, shard)
            assert latest.run_id in result.runs and latest.run_id != previous_runs[tuple(key), shard]
            assert latest.metadata["dataflow/delta_version"] > versions[store.uri(key)]
        assert client.latest_materialization(key, untouched).run_id == previous_runs[tuple(key), untouched]
    for uri in tables:
        rows, files = _partition_state(uri, untouched)
        assert_frame_equal(rows, before[uri][0])
        assert_frame_equal(files, before[uri][1])  # the same data files: not even rewritten
        for commit in DeltaTable(uri).history():
            if commit["version"] > versions[uri]:  # every new commit is restricted to the backfilled partitions
                predicate = commit["operationParameters"].get("predicate") or "<whole table>"
                assert untouched not in predicate and (first in predicate or second in predicate), predicate


def test_lineage_over_graphql_follows_the_pipeline(client):
    assert client.asset_lineage([GROUP, "normalize"]) == {
        "upstream": [[GROUP, "raw"]],
        "downstream": [[GROUP, "quality"]],
    }
    assert client.asset_lineage([GROUP, "dedup"]) == {
        "upstream": [[GROUP, "quality"]],
        "downstream": [[GROUP, "paragraphs"]],
    }
    assert client.asset_lineage([GROUP, "raw"])["upstream"] == []


def test_materialization_metadata_over_graphql_matches_the_delta_tables(client, store, shards, backfilled):
    for key in PARTITIONED + FAN_IN:
        uri = store.uri(key)
        for partition in shards if key in PARTITIONED else [None]:
            metadata = client.latest_materialization_metadata(key, partition)
            rows = store.read(uri, [partition] if partition else None).frame
            assert metadata["dagster/uri"] == uri
            assert metadata["dagster/row_count"] == rows.height
            assert metadata["dataflow/delta_version"] == store.producing_commit(uri, partition).version
            facts = metadata["dataflow/facts"]
            assert facts["rows"] == rows.height and facts["distinct_row_ids"] == rows[ROW_ID].n_unique()
            assert set(facts["columns"]) <= set(rows.columns)


def test_graphql_errors_name_the_operation_and_carry_dagsters_message(client, shards):
    with pytest.raises(DataflowError, match=r"launchRun: InvalidSubsetError: .*demo/nope"):
        client.launch_materialization([[GROUP, "nope"]])
    with pytest.raises(DataflowError, match=r"launchPartitionBackfill: PartitionKeysNotFoundError: .*no-such-shard"):
        client.launch_partition_backfill(PARTITIONED, [shards[0], "no-such-shard"])
    with pytest.raises(DataflowError, match=r"assetNodeOrError: AssetNotFoundError"):
        client.asset_lineage([GROUP, "nope"])


def test_a_webserver_that_is_not_running_is_named_with_a_hint():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(WebserverUnreachableError, match=f"Workspace: cannot reach the Dagster webserver at {url}") as e:
        DagsterGraphQL(url).location()
    assert "dataflow ui" in e.value.hint


def test_chromium_shows_the_asset_graph_and_an_assets_lineage(client, ui, backfilled, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it when run as root)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is in the dev extra: pip install -e .[dev]"
    )
    client.set_nux_seen()  # else a first-visit dialog covers the page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "global-asset-lineage.png": ("/asset-groups", ["demo", "text_pretrain", "text_sft"]),
        "demo-asset-graph.png": (
            f"/locations/{DEFAULT_LOCATION}/asset-groups/{GROUP}/lineage",
            ["raw", "normalize", "quality", "dedup", "paragraphs"],
        ),
        "demo-normalize-lineage.png": (f"/assets/{GROUP}/normalize?view=lineage", ["raw", "normalize", "quality"]),
    }
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            page = browser.new_page()
            for screenshot, (route, names) in pages.items():
                page.goto(ui.url + route)
                for name in names:
                    sync_api.expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=60_000)
                # then the nodes' statuses (materialized, partitions filled), so that the screenshot shows them
                sync_api.expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0, timeout=60_000)
                page.screenshot(path=SCREENSHOTS / screenshot)
        finally:
            browser.close()
    assert all((SCREENSHOTS / name).stat().st_size > 0 for name in pages)


def test_dataflow_backfill_submits_to_the_running_ui_and_waits_for_it(ui, client, shards, backfilled):
    env = {**os.environ, **ui.env}
    command = [sys.executable, "-m", "dataflow_assets.cli", "backfill", GROUP, "-p", shards[2], "--url", ui.url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr + ui.log_tail()
    backfill_id = re.search(r"backfill (\S+) submitted", done.stdout).group(1)
    assert f"backfill {backfill_id}: COMPLETED_SUCCESS, 2 run(s), 0 failed" in done.stdout  # the shard, then fan-in
    result = client.backfill_status(backfill_id)
    assert client.latest_materialization([GROUP, "quality"], shards[2]).run_id in result.runs
    assert client.latest_materialization([GROUP, "dedup"]).run_id in result.runs


def test_the_new_files_sensor_makes_a_new_shard_a_partition_and_processes_it(ui, client, store):
    """text_pretrain's partitions are dynamic: `dataflow ui` registered the one shard present; the sensor, once
    turned on, registers a shard dropped later and runs the pipeline's partitioned steps on it alone."""
    incoming = Path(ui.env[input_env("text_pretrain")])
    assert client.partition_keys(["text_pretrain", "raw"]) == ["web-001.jsonl"]
    shutil.copy(TEXT_SAMPLE / "web-002.jsonl", incoming)

    assert client.start_sensor("text_pretrain__new_files") == "RUNNING"
    deadline = time.monotonic() + RUN_TIMEOUT_S
    runs: dict[str, str] = {}
    while not runs and time.monotonic() < deadline:  # the daemon ticks the sensor, then launches the run
        runs = client.runs_with_tag("dagster/partition", "web-002.jsonl")
        time.sleep(1)
    assert runs, f"the sensor requested no run for web-002.jsonl\n{ui.log_tail()}"
    (run,) = runs
    assert client.wait_for_run(run, RUN_TIMEOUT_S) == "SUCCESS", _why(client, ui, {run: "?"})

    assert client.partition_keys(["text_pretrain", "raw"]) == ["web-001.jsonl", "web-002.jsonl"]
    scored = store.read(store.uri(["text_pretrain", "quality"])).frame
    assert scored.height > 0 and scored[PARTITION].unique().to_list() == ["web-002.jsonl"]
    assert client.latest_materialization(["text_pretrain", "quality"], "web-002.jsonl").run_id == run


def test_stopping_the_ui_stops_every_process_it_started(ui):
    code, survivors = ui.stop()
    assert code == 0, ui.log_tail()
    assert not survivors, f"still running after Ctrl-C: {survivors}"
    started = " ".join(proc.args for proc in ui.seen())
    for part in ("dagster dev", "dagster_webserver", "dagster._daemon", "dagster api grpc"):
        assert part in started, f"{part} was never seen running: the check above proves little"
    with pytest.raises(OSError):
        urllib.request.urlopen(ui.url, timeout=2)


def _partitioned_tables(store: DeltaStore) -> list[str]:
    """Every Delta table of the group partitioned by ``_partition``, side tables included."""
    folders = sorted((store.root / GROUP).iterdir())
    return [str(f) for f in folders if store.exists(str(f)) and DeltaTable(str(f)).metadata().partition_columns]


def _partition_state(uri: str, partition: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The partition's rows and the data files that hold them (a rewrite, even of equal rows, makes new files)."""
    table = DeltaTable(uri)
    rows = pl.scan_delta(table).filter(pl.col(PARTITION) == partition).collect().sort(ROW_ID)
    files = (
        pl.DataFrame(table.get_add_actions(flatten=True))
        .filter(pl.col(f"partition.{PARTITION}") == partition)
        .select("path", "size_bytes", "modification_time")
        .sort("path")
    )
    return rows, files


def _why(client: DagsterGraphQL, ui: DataflowUI, runs: dict[str, str], error: str | None = None) -> str:
    """What went wrong: the backfill's error, the runs' statuses and errors, and the end of the UI's log."""
    errors = {run: client.run_errors(run) for run, status in runs.items() if status != "SUCCESS"}
    return f"backfill error: {error}\nruns: {runs}\nrun errors: {errors}\nUI log:\n{ui.log_tail()}"
