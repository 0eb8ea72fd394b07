"""Which Dagster runs a request to materialize a pipeline becomes.

A request names partitions (default: all) and says whether to recompute them or to resume, i.e. to compute only
the asset partitions that are missing or stale (a run that failed or was killed part-way left them so). It becomes
runs executed one after another:

- the partitioned steps, one run per contiguous range of partitions that need the same steps (a range run writes
  all its partitions in one Delta commit per step);
- then the unpartitioned steps (fan-in steps and everything after them) in one run, since they read every
  partition; when there is a single range run, they join it (the usual case: everything in one run).

Staleness is Dagster's own (the status the UI shows): a step is stale when its code version changed or its inputs
were rematerialized since. Whatever a step recomputes, the steps after it recompute too.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime

from dataflow_assets.compiler import CompiledPipeline
from operators.errors import DataflowError

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class PlannedRun:
    assets: tuple[dg.AssetKey, ...]
    partition_range: tuple[str, str] | None

    @property
    def tags(self) -> dict[str, str]:
        if self.partition_range is None:
            return {}
        return {RANGE_START_TAG: self.partition_range[0], RANGE_END_TAG: self.partition_range[1]}


def partition_keys(compiled: CompiledPipeline, instance: dg.DagsterInstance) -> list[str]:
    """The pipeline's partition keys in order (dynamic ones as registered in ``instance``); empty if unpartitioned."""
    for asset in compiled.partitioned_assets:
        return list(asset.partitions_def.get_partition_keys(dynamic_partitions_store=instance))
    return []


def plan_runs(
    compiled: CompiledPipeline, instance: dg.DagsterInstance, partitions: list[str] | None, *, resume: bool
) -> list[PlannedRun]:
    """The runs that materialize ``partitions`` (default all) of the pipeline, or only what is missing or stale."""
    all_keys = partition_keys(compiled, instance)
    wanted = _checked(partitions, all_keys) if partitions else all_keys
    needs = _needed(compiled, instance, wanted, resume)
    runs: list[PlannedRun] = []
    current: tuple[dg.AssetKey, ...] = ()
    start = end = ""
    for key in all_keys:  # consecutive keys needing the same steps share a run; a key needing none ends it
        assets = tuple(a.key for a in compiled.partitioned_assets if key in needs[a.key])
        if assets and assets == current:
            end = key
            continue
        if current:
            runs.append(PlannedRun(current, (start, end)))
        current, start, end = assets, key, key
    if current:
        runs.append(PlannedRun(current, (start, end)))
    unpartitioned = tuple(a.key for a in compiled.unpartitioned_assets if needs[a.key])
    if unpartitioned and len(runs) == 1:  # one run for all: fan-in steps get the frames just written, unread
        return [PlannedRun(runs[0].assets + unpartitioned, runs[0].partition_range)]
    if unpartitioned:
        runs.append(PlannedRun(unpartitioned, None))
    return runs


def partitions_hint(all_keys: list[str]) -> str:
    """The hint of an error about an unknown partition: the first partitions there are."""
    shown = ", ".join(all_keys[:20]) + (" …" if len(all_keys) > 20 else "")
    return f"partitions: {shown or 'none registered yet'}"


def _checked(partitions: list[str], all_keys: list[str]) -> list[str]:
    unknown = [key for key in partitions if key not in all_keys]
    if unknown:
        raise DataflowError(f"unknown partition(s) {unknown}", hint=partitions_hint(all_keys))
    return partitions


def _needed(
    compiled: CompiledPipeline, instance: dg.DagsterInstance, wanted: list[str], resume: bool
) -> dict[dg.AssetKey, set[str] | bool]:
    """Per asset: the partitions to compute (partitioned assets) or whether to compute it (unpartitioned ones)."""
    resolver = _stale_status_resolver(instance, compiled.assets) if resume else None

    def outdated(key: dg.AssetKey, partition: str | None) -> bool:
        return resolver is None or resolver.get_status(key, partition) in (StaleStatus.MISSING, StaleStatus.STALE)

    needs: dict[dg.AssetKey, set[str] | bool] = {}
    for asset in compiled.assets:  # in pipeline order: parents come first
        upstream = [needs[key] for key in asset.dependency_keys if key in needs]
        if asset.partitions_def is not None:
            needs[asset.key] = {k for k in wanted if outdated(asset.key, k)}.union(*upstream)
        else:
            needs[asset.key] = any(bool(u) for u in upstream) or outdated(asset.key, None)
    return needs


def _stale_status_resolver(
    instance: dg.DagsterInstance, assets: list[dg.AssetsDefinition]
) -> CachingStaleStatusResolver:
    """Dagster's own staleness, as its UI shows it. Dagster has no public API for it, so this builds the resolver
    from internals as Dagster's test utilities do; Dagster is pinned in pyproject.toml, and the resume tests cover
    this."""
    graph = AssetGraph.from_assets(assets)
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=graph,
    )
    return CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)
