"""Shards as partitions: a source's files become the partitions of every step downstream of it.

A source with ``partitioned=True`` gets static partitions, the files found when the pipeline is compiled. One with
``partitioned="dynamic"`` gets Dagster dynamic partitions, kept in the instance: ``register_new_files`` adds the
files that are new (the CLI calls it before a run), and the sensor ``<group>__new_files`` does the same in a
running deployment and requests a run of the pipeline's partitioned steps for each new file. Partitions are never
removed when a file disappears: the rows already derived from it stay in the Delta tables, and the sensor says so.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from operators.errors import SourceReadError
from operators.sources.file_source import FileSource


def partitions_for_source(group: str, name: str, source: FileSource) -> dg.PartitionsDefinition | None:
    if source.partitioned == "dynamic":
        return dg.DynamicPartitionsDefinition(name=f"{group}__{name}")
    if source.partitioned:
        return dg.StaticPartitionsDefinition(source.partition_keys())
    return None


def register_new_files(
    instance: dg.DagsterInstance, sources: Iterable[tuple[FileSource, dg.PartitionsDefinition | None]]
) -> list[str]:
    """Add a dynamic partition for every new file of the dynamic ``sources``; returns the keys added."""
    added: list[str] = []
    for source, partitions_def in sources:
        if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
            new = _unregistered(source.partition_keys(), _registered(instance, partitions_def))
            if new:
                instance.add_dynamic_partitions(partitions_def.name, new)
            added += new
    return added


def _registered(instance: dg.DagsterInstance, partitions_def: dg.DynamicPartitionsDefinition) -> set[str]:
    return set(instance.get_dynamic_partitions(partitions_def.name))


def _unregistered(present: list[str], registered: set[str]) -> list[str]:
    """The keys of files present that are not partitions yet, in file order."""
    return [key for key in present if key not in registered]


def new_files_sensor(
    group: str, source: FileSource, partitions_def: dg.DynamicPartitionsDefinition, targets: list[dg.AssetKey]
) -> dg.SensorDefinition:
    """A sensor that registers the source folder's new files as partitions and requests a run of ``targets`` (the
    pipeline's partitioned steps) for each. It starts stopped: turning it on launches LLM steps on every file that
    lands, which a team should choose to do."""

    @dg.sensor(
        name=f"{group}__new_files",
        description=f"New files in {source.path} ({source.pattern}) become partitions of {group} and are processed",
        asset_selection=dg.AssetSelection.assets(*targets),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        try:
            present = source.partition_keys()
        except SourceReadError as error:  # an empty folder is a normal state for a sensor waiting for files
            return dg.SkipReason(str(error))
        known = _registered(context.instance, partitions_def)
        added = _unregistered(present, known)
        vanished = sorted(known - set(present))
        if vanished:
            context.log.warning(f"files registered as partitions are gone from {source.path}: {vanished[:5]}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=key, partition_key=key) for key in added],
            dynamic_partitions_requests=[partitions_def.build_add_request(added)] if added else [],
        )

    return sensor
