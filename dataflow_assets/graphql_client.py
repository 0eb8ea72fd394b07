"""A small client for the GraphQL endpoint of a running Dagster webserver (`dataflow ui`, `dagster dev`).

It does what a user does in the UI — materialize assets, backfill partitions, follow lineage, read the metadata
of a materialization — so that tests and `dataflow backfill --url` drive the real server instead of an
in-process Dagster. Queries follow the schema of dagster-graphql 1.13 (`dagster_graphql/schema/`). Every failure
is a :class:`DataflowError` naming the operation and carrying the server's own messages, including the error
members of GraphQL result unions (``PythonError``, ``InvalidSubsetError``, ...), which arrive as data, not as
GraphQL errors.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests

from operators.errors import DataflowError

DEFAULT_LOCATION = "dataflow_assets.definitions"
"""The code location `workspace.yaml` loads (Dagster names a ``python_module`` location after the module)."""
REPOSITORY = "__repository__"
"""The repository Dagster makes of a ``Definitions`` object."""
ASSET_JOB = "__ASSET_JOB"
"""The implicit job that materializes any selection of assets, as the UI's "Materialize" button does."""
PARTITION_TAG = "dagster/partition"
RUN_FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
BACKFILL_FINISHED = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})
POLL_SECONDS = 0.5

AssetKey = Sequence[str]
"""An asset key as its path, e.g. ``["demo", "normalize"]``."""

# The error members of result unions implement `Error`; a launch may also fail on its run config (a list).
ERROR_FRAGMENT = "fragment ErrorMessage on Error { message }"

METADATA_FRAGMENT = """
fragment MetadataValue on MetadataEntry {
  __typename
  label
  ... on IntMetadataEntry { intRepr }
  ... on FloatMetadataEntry { floatRepr }
  ... on BoolMetadataEntry { boolValue }
  ... on TextMetadataEntry { text }
  ... on JsonMetadataEntry { jsonString }
  ... on MarkdownMetadataEntry { mdStr }
  ... on PathMetadataEntry { path }
  ... on UrlMetadataEntry { url }
  ... on TimestampMetadataEntry { timestamp }
  ... on TableSchemaMetadataEntry { schema { columns { name type } } }
}
"""

WORKSPACE = (
    """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message }
        }
      }
    }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

LAUNCH_RUN = (
    """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ...ErrorMessage
    ... on PipelineConfigValidationInvalid { errors { message } }
  }
}
"""
    + ERROR_FRAGMENT
)

LAUNCH_BACKFILL = (
    """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ...ErrorMessage
    ... on PipelineConfigValidationInvalid { errors { message } }
  }
}
"""
    + ERROR_FRAGMENT
)

RUN_STATUS = (
    """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

RUN_ERRORS = (
    """
query RunErrors($runId: ID!, $cursor: String) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      eventConnection(afterCursor: $cursor) {
        cursor
        hasMore
        events { __typename ... on ErrorEvent { error { message } } }
      }
    }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

BACKFILL_STATUS = (
    """
query BackfillStatus($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill { status runs { runId status } error { message } }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

START_SENSOR = (
    """
mutation StartSensor($sensorSelector: SensorSelector!) {
  startSensor(sensorSelector: $sensorSelector) {
    __typename
    ... on Sensor { sensorState { status } }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

RUNS_BY_TAG = (
    """
query RunsByTag($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status } }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

ASSET_NODE = (
    """
query AssetNode($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode { isPartitioned dependencyKeys { path } dependedByKeys { path } }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

PARTITION_KEYS = (
    """
query PartitionKeys($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode { partitionKeys }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
)

LATEST_MATERIALIZATION = (
    """
query LatestMaterialization($assetKey: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $assetKey) {
    __typename
    ... on Asset {
      assetMaterializations(partitions: $partitions, limit: 1) {
        runId
        partition
        timestamp
        metadataEntries { ...MetadataValue }
      }
    }
    ...ErrorMessage
  }
}
"""
    + ERROR_FRAGMENT
    + METADATA_FRAGMENT
)

SET_NUX_SEEN = "mutation SetNuxSeen { setNuxSeen }"


class WebserverUnreachableError(DataflowError):
    """Nothing answers at the webserver's address (not started yet, or stopped)."""


@dataclass(frozen=True)
class BackfillResult:
    status: str
    """The backfill's final ``BulkActionStatus``, e.g. ``COMPLETED_SUCCESS``."""
    runs: dict[str, str] = field(default_factory=dict)
    """Run id -> final run status, for every run the backfill launched."""
    error: str | None = None
    """Why the daemon could not carry the backfill out (it is then ``FAILED``), as Dagster reports it."""


@dataclass(frozen=True)
class Materialization:
    run_id: str
    partition: str | None
    timestamp_ms: int
    metadata: dict[str, object]


class DagsterGraphQL:
    """The GraphQL API of the Dagster webserver at ``url`` (e.g. ``http://127.0.0.1:3000``).

    ``timeout_s`` bounds each HTTP request; the ``wait_*`` methods take their own overall timeout.
    """

    def __init__(self, url: str, timeout_s: float = 30) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._location: str | None = None

    def execute(self, query: str, variables: dict[str, object] | None = None) -> dict:
        """Run one query or mutation and return its ``data``; GraphQL errors become a :class:`DataflowError`."""
        operation = _operation_name(query)
        try:
            reply = requests.post(
                f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=self.timeout_s
            )
        except requests.RequestException as error:
            raise WebserverUnreachableError(
                f"{operation}: cannot reach the Dagster webserver at {self.url}: {error}",
                hint="start it with `dataflow ui` and pass its address",
            ) from error
        try:
            body = reply.json()
        except ValueError:
            raise DataflowError(
                f"{operation}: {self.url}/graphql answered HTTP {reply.status_code}, not GraphQL: {reply.text[:200]}"
            ) from None
        if body.get("errors"):
            messages = "; ".join(error.get("message", str(error)) for error in body["errors"])
            raise DataflowError(f"{operation}: {messages}")
        if reply.status_code != 200 or body.get("data") is None:
            raise DataflowError(f"{operation}: HTTP {reply.status_code} without data")
        return body["data"]

    def wait_until_ready(self, timeout_s: float, location: str = DEFAULT_LOCATION) -> float:
        """Wait until the webserver answers and has loaded the code location; return the seconds it took.

        A location that failed to load raises at once with Dagster's error rather than waiting out the timeout.
        """
        start = time.monotonic()
        last_problem = "no answer yet"
        while time.monotonic() - start < timeout_s:
            try:
                entries = self._location_entries()
            except WebserverUnreachableError as error:  # not listening yet
                last_problem = str(error)
            else:
                entry = entries.get(location)
                loaded = entry is not None and entry["loadStatus"] == "LOADED"
                if loaded and entry["locationOrLoadError"]["__typename"] == "PythonError":
                    raise DataflowError(
                        f"Workspace: code location {location} failed to load: {entry['locationOrLoadError']['message']}"
                    )
                if loaded:
                    return time.monotonic() - start
                last_problem = f"locations: {sorted(entries)}, {location} not loaded yet"
            time.sleep(POLL_SECONDS)
        raise DataflowError(f"{self.url}: code location {location} not loaded after {timeout_s:.0f} s: {last_problem}")

    def set_nux_seen(self) -> None:
        """Dismiss the first-visit dialog, which otherwise covers the UI of a fresh Dagster instance."""
        self.execute(SET_NUX_SEEN)

    def launch_materialization(
        self,
        asset_keys: Sequence[AssetKey],
        partition_key: str | None = None,
        run_config: dict[str, object] | None = None,
    ) -> str:
        """Materialize the assets (one partition of them when given) in one run, as the UI's Materialize
        button does; return the run id. The run is queued: the daemon launches it. ``run_config`` is the
        launchpad's, e.g. ``{"execution": {"config": {"in_process": {}}}}`` to run every step in one process."""
        selector = {
            "repositoryLocationName": self.location(),
            "repositoryName": REPOSITORY,
            "jobName": ASSET_JOB,
            "assetSelection": _key_inputs(asset_keys),
        }
        tags = [{"key": PARTITION_TAG, "value": partition_key}] if partition_key is not None else []
        params = {"selector": selector, "runConfigData": run_config or {}, "executionMetadata": {"tags": tags}}
        result = _success(self.execute(LAUNCH_RUN, {"executionParams": params}), "launchRun", "LaunchRunSuccess")
        return result["run"]["runId"]

    def launch_partition_backfill(
        self,
        asset_keys: Sequence[AssetKey],
        partition_names: Sequence[str] | None = None,
        *,
        partition_range: tuple[str, str] | None = None,
    ) -> str:
        """Backfill the assets over the given partitions, or over the inclusive range ``(start, end)`` of
        partition keys; return the backfill id. Only those partitions are rewritten.

        Unpartitioned assets in the selection (fan-in steps) are materialized once, after the partitions they
        read. The daemon launches the runs, one per partition.
        """
        if (partition_names is None) == (partition_range is None):
            raise DataflowError("launch_partition_backfill: give either partition_names or partition_range")
        if partition_range is not None:
            start, end = partition_range
            params: dict[str, object] = {
                "partitionsByAssets": [
                    {"assetKey": {"path": list(key)}, "partitions": {"range": {"start": start, "end": end}}}
                    if self._asset_node(key)["isPartitioned"]
                    else {"assetKey": {"path": list(key)}}
                    for key in asset_keys
                ]
            }
        else:
            params = {"assetSelection": _key_inputs(asset_keys), "partitionNames": list(partition_names or [])}
        data = self.execute(LAUNCH_BACKFILL, {"backfillParams": params})
        return _success(data, "launchPartitionBackfill", "LaunchBackfillSuccess")["backfillId"]

    def wait_for_run(self, run_id: str, timeout_s: float) -> str:
        """Wait for the run to finish; return its final status (``SUCCESS``, ``FAILURE`` or ``CANCELED``)."""
        return self._poll(lambda: self.run_status(run_id), RUN_FINISHED, timeout_s, f"run {run_id}")

    def run_status(self, run_id: str) -> str:
        return _success(self.execute(RUN_STATUS, {"runId": run_id}), "runOrError", "Run")["status"]

    def run_errors(self, run_id: str) -> list[str]:
        """The error messages of a run's events (failed steps, a failed run), to say why a run failed."""
        messages: list[str] = []
        cursor = None
        while True:
            data = self.execute(RUN_ERRORS, {"runId": run_id, "cursor": cursor})
            events = _success(data, "runOrError", "Run")["eventConnection"]
            messages += [e["error"]["message"] for e in events["events"] if (e.get("error") or {}).get("message")]
            if not events["hasMore"]:
                return messages
            cursor = events["cursor"]

    def wait_for_backfill(self, backfill_id: str, timeout_s: float) -> BackfillResult:
        """Wait for the backfill and every run it launched to finish; return its status and its runs'."""
        self._poll(lambda: self.backfill_status(backfill_id).status, BACKFILL_FINISHED, timeout_s, backfill_id)
        return self.backfill_status(backfill_id)

    def backfill_status(self, backfill_id: str) -> BackfillResult:
        data = self.execute(BACKFILL_STATUS, {"backfillId": backfill_id})
        backfill = _success(data, "partitionBackfillOrError", "PartitionBackfill")
        runs = {run["runId"]: run["status"] for run in backfill["runs"]}
        return BackfillResult(backfill["status"], runs, (backfill["error"] or {}).get("message"))

    def start_sensor(self, name: str) -> str:
        """Turn a sensor on, as its toggle in the UI does; return its status (``RUNNING``)."""
        selector = {"repositoryLocationName": self.location(), "repositoryName": REPOSITORY, "sensorName": name}
        data = self.execute(START_SENSOR, {"sensorSelector": selector})
        return _success(data, "startSensor", "Sensor")["sensorState"]["status"]

    def runs_with_tag(self, key: str, value: str) -> dict[str, str]:
        """Run id -> status of every run tagged ``key=value`` (e.g. the runs of one partition)."""
        data = self.execute(RUNS_BY_TAG, {"filter": {"tags": [{"key": key, "value": value}]}})
        return {run["runId"]: run["status"] for run in _success(data, "runsOrError", "Runs")["results"]}

    def asset_lineage(self, asset_key: AssetKey) -> dict[str, list[list[str]]]:
        """The asset's direct upstream and downstream asset keys, as the UI's lineage view draws them."""
        node = self._asset_node(asset_key)
        return {
            "upstream": sorted(key["path"] for key in node["dependencyKeys"]),
            "downstream": sorted(key["path"] for key in node["dependedByKeys"]),
        }

    def partition_keys(self, asset_key: AssetKey) -> list[str]:
        """The asset's partition keys in Dagster's order (empty for an unpartitioned asset)."""
        data = self.execute(PARTITION_KEYS, {"assetKey": {"path": list(asset_key)}})
        return _success(data, "assetNodeOrError", "AssetNode")["partitionKeys"]

    def latest_materialization(self, asset_key: AssetKey, partition: str | None = None) -> Materialization:
        """The asset's latest materialization (of ``partition`` when given) with its metadata decoded."""
        variables = {"assetKey": {"path": list(asset_key)}, "partitions": [partition] if partition else None}
        asset = _success(self.execute(LATEST_MATERIALIZATION, variables), "assetOrError", "Asset")
        events = asset["assetMaterializations"]
        if not events:
            where = f" partition {partition}" if partition else ""
            raise DataflowError(f"asset {'/'.join(asset_key)}{where} has no materialization", hint="materialize it")
        event = events[0]
        metadata = {entry["label"]: _metadata_value(entry) for entry in event["metadataEntries"]}
        return Materialization(event["runId"], event["partition"], int(event["timestamp"]), metadata)

    def latest_materialization_metadata(self, asset_key: AssetKey, partition: str | None = None) -> dict[str, object]:
        return self.latest_materialization(asset_key, partition).metadata

    def location(self) -> str:
        """The code location holding the definitions: the default one when loaded, else the only one there is."""
        if self._location is None:
            entries = self._location_entries()
            loaded = [
                name
                for name, entry in entries.items()
                if entry["loadStatus"] == "LOADED"
                and any(r["name"] == REPOSITORY for r in entry["locationOrLoadError"].get("repositories", []))
            ]
            if DEFAULT_LOCATION in loaded or len(loaded) == 1:
                self._location = DEFAULT_LOCATION if DEFAULT_LOCATION in loaded else loaded[0]
            else:
                raise DataflowError(
                    f"{self.url}: cannot tell which code location to use among {sorted(entries)} (loaded: {loaded})",
                    hint="wait until the location is loaded (wait_until_ready)",
                )
        return self._location

    def _location_entries(self) -> dict[str, dict]:
        workspace = _success(self.execute(WORKSPACE), "workspaceOrError", "Workspace")
        return {entry["name"]: entry for entry in workspace["locationEntries"]}

    def _asset_node(self, asset_key: AssetKey) -> dict:
        data = self.execute(ASSET_NODE, {"assetKey": {"path": list(asset_key)}})
        return _success(data, "assetNodeOrError", "AssetNode")

    def _poll(self, read_status: Callable[[], str], finished: frozenset[str], timeout_s: float, what: str) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            status = read_status()
            if status in finished:
                return status
            if time.monotonic() > deadline:
                raise DataflowError(f"{what} still {status} after {timeout_s:.0f} s", hint="is the daemon running?")
            time.sleep(POLL_SECONDS)


def _operation_name(query: str) -> str:
    match = re.search(r"\b(?:query|mutation)\s+(\w+)", query)
    return match.group(1) if match else "GraphQL query"


def _success(data: dict, field_name: str, typename: str) -> dict:
    """The member of a result union, or a DataflowError with the error member's messages."""
    result = data[field_name]
    if result["__typename"] == typename:
        return result
    messages = [result["message"]] if result.get("message") else []
    messages += [error["message"] for error in result.get("errors") or []]
    raise DataflowError(f"{field_name}: {result['__typename']}: {'; '.join(messages) or 'no message'}")


def _key_inputs(asset_keys: Sequence[AssetKey]) -> list[dict[str, list[str]]]:
    return [{"path": list(key)} for key in asset_keys]


def _metadata_value(entry: dict) -> object:
    """A metadata entry as the Python value it was reported as (ints, JSON, a table schema as name -> type)."""
    kind = entry["__typename"]
    if kind == "IntMetadataEntry":
        return int(entry["intRepr"])
    if kind == "FloatMetadataEntry":
        return float(entry["floatRepr"])
    if kind == "JsonMetadataEntry":
        return json.loads(entry["jsonString"])
    if kind == "TableSchemaMetadataEntry":
        return {column["name"]: column["type"] for column in entry["schema"]["columns"]}
    for value_field in ("boolValue", "text", "mdStr", "path", "url", "timestamp"):
        if value_field in entry:
            return entry[value_field]
    return {"unsupported metadata type": kind}
