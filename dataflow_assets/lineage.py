"""Row lineage: where a row came from and what every step decided about it.

Rows keep their ``_row_id`` through 1:1 steps and generated rows name their parents in ``_parent_ids``, so the
history of a row is found by walking the pipeline graph upstream and looking the id up in each step's Delta
table, its ``.rejected`` side table and its ``.scores`` side table. Each hop reports the Delta commit that wrote
the row's partition and the upstream versions that commit read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from operators.columns import (
    PARENT_IDS,
    PARTITION,
    QUARANTINE_DETAIL,
    QUARANTINE_REASON,
    REJECT_DETAIL,
    REJECT_RULE,
    REJECT_SCORE,
    ROW_ID,
    SOURCE_FILE,
    SOURCE_LINE,
)
from operators.errors import LineageError
from operators.pipeline import TracedPipeline
from resources.delta_store import DeltaStore


@dataclass(frozen=True)
class Hop:
    """One step of a row's history. ``upstream`` holds the hops of the row (or parent rows) one step earlier."""

    asset: str
    operator: str
    category: str
    row_id: str
    status: str
    """``source``, ``kept`` (passed the step), ``rejected`` (removed here), ``generated`` (created here) or
    ``quarantined`` (a source row that could not be ingested)."""
    version: int
    """Delta version of the commit that wrote this row's partition of the step's table."""
    inputs_read: dict[str, int]
    """Upstream asset -> Delta version that commit read."""
    params: dict[str, Any]
    engines: dict[str, str] = field(default_factory=dict)
    """Engine -> model id that produced the row here (LLM steps), from the Delta commit."""
    scores: dict[str, float | None] = field(default_factory=dict)
    rule: str | None = None
    score: float | None = None
    detail: str | None = None
    source_file: str | None = None
    source_line: int | None = None
    upstream: list[Hop] = field(default_factory=list)

    def path(self) -> list[Hop]:
        """The hops from the source to this one, following the first parent at each generated step."""
        return [*(self.upstream[0].path() if self.upstream else []), self]


def row_lineage(traced: TracedPipeline, store: DeltaStore, step: str, row_id: str) -> Hop:
    """The history of row ``row_id`` as seen at ``step`` (kept there or rejected there), back to its source."""
    if step not in traced.nodes:
        raise LineageError(f"pipeline {traced.group!r} has no step {step!r}", hint=f"steps: {', '.join(traced.nodes)}")
    return _walk(traced, store, step, row_id)


def _walk(traced: TracedPipeline, store: DeltaStore, step: str, row_id: str) -> Hop:
    node = traced.nodes[step]
    asset_path = [traced.group, step]
    row, status = _find(store, asset_path, row_id)
    if row is None:
        raise LineageError(
            f"row {row_id!r} is neither in {'/'.join(asset_path)} nor among its rejected or quarantined rows",
            hint="check the id, or ask about a step the row reached",
        )
    partition = row.get(PARTITION)
    commit = store.producing_commit(store.uri(asset_path), partition)
    described = node.step.describe()
    hop_fields: dict[str, Any] = {
        "asset": "/".join(asset_path),
        "operator": described["operator"],
        "category": described["category"],
        "row_id": row_id,
        "version": commit.version,
        "inputs_read": commit.inputs,
        "engines": commit.engines,
        "params": described.get("params") or {"items": described.get("items", [])},
        "scores": _scores(store, asset_path, row_id),
    }
    if status == "rejected":
        hop_fields.update(rule=row[REJECT_RULE], score=row[REJECT_SCORE], detail=row[REJECT_DETAIL])
    if status == "quarantined":
        hop_fields.update(rule=row[QUARANTINE_REASON], detail=row[QUARANTINE_DETAIL])
    if node.is_source:
        return Hop(
            status="source" if status == "kept" else status,
            source_file=row.get(SOURCE_FILE),
            source_line=row.get(SOURCE_LINE),
            **hop_fields,
        )
    if node.step.generates_rows and status != "rejected":  # a rejected input row keeps its own id
        parents = row.get(PARENT_IDS) or []
        upstream = [_walk_inputs(traced, store, node.inputs, parent) for parent in parents]
        return Hop(status="generated" if status == "kept" else status, upstream=upstream, **hop_fields)
    return Hop(status=status, upstream=[_walk_inputs(traced, store, node.inputs, row_id)], **hop_fields)


def _walk_inputs(traced: TracedPipeline, store: DeltaStore, inputs: tuple[str, ...], row_id: str) -> Hop:
    """Follow ``row_id`` into whichever input holds it (a join has several)."""
    for upstream in inputs:
        row, _ = _find(store, [traced.group, upstream], row_id)
        if row is not None:
            return _walk(traced, store, upstream, row_id)
    raise LineageError(f"row {row_id!r} is in none of the inputs {list(inputs)}", hint="were they rematerialized?")


def _find(store: DeltaStore, asset_path: list[str], row_id: str) -> tuple[dict[str, Any] | None, str]:
    for side, status in ((None, "kept"), ("rejected", "rejected"), ("quarantine", "quarantined")):
        uri = store.uri(asset_path, side)
        if store.exists(uri):
            found = pl.scan_delta(uri).filter(pl.col(ROW_ID) == row_id).collect()
            if found.height:
                return found.row(0, named=True), status
    return None, ""


def _scores(store: DeltaStore, asset_path: list[str], row_id: str) -> dict[str, float | None]:
    uri = store.uri(asset_path, "scores")
    if not store.exists(uri):
        return {}
    found = pl.scan_delta(uri).filter(pl.col(ROW_ID) == row_id).drop(ROW_ID, PARTITION, strict=False).collect()
    return found.row(0, named=True) if found.height else {}
