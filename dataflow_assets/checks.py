"""Asset checks every pipeline step gets, so that bad data stops before it flows downstream.

- ``row_ids_unique`` (blocking): lineage depends on it.
- ``schema_as_declared`` (blocking): the table has every column the traced pipeline promised at this step.
- ``text_present`` (blocking): the pipeline's text columns are neither null nor empty (``Pipeline.text_columns``).
- ``rejection_rate`` (warning): a filter step rejects no more than ``Pipeline.max_rejection_rate[step]`` of its
  rows — a sudden jump usually means an upstream change, not a worse corpus.

Checks read the step's Delta table directly (only the columns they need), whole, across partitions.
"""

from collections.abc import Callable

import dagster as dg
import polars as pl

from operators.columns import REJECT_RULE, ROW_ID
from operators.tracing import Node
from resources.delta_io import DeltaIOManager

CheckBody = Callable[[DeltaIOManager], dg.AssetCheckResult]


def step_checks(
    group: str, node: Node, *, text_columns: tuple[str, ...], max_rejection_rate: float | None
) -> list[dg.AssetChecksDefinition]:
    key = dg.AssetKey([group, node.name])
    checks: dict[str, tuple[bool, str, CheckBody]] = {
        "row_ids_unique": (True, "every _row_id occurs once", lambda io: _row_ids_unique(io, key)),
        "schema_as_declared": (
            True,
            "the table has the columns the pipeline declares here",
            lambda io: _schema_as_declared(io, key, node.columns),
        ),
    }
    present = [c for c in text_columns if c in node.columns]
    if present:
        checks["text_present"] = (
            True,
            f"{', '.join(present)}: no null or empty value",
            lambda io: _text(io, key, present),
        )
    if max_rejection_rate is not None:
        checks["rejection_rate"] = (
            False,
            f"at most {max_rejection_rate:.0%} of the rows rejected",
            lambda io: _rejection_rate(io, key, max_rejection_rate),
        )
    return [_check(key, name, blocking, description, body) for name, (blocking, description, body) in checks.items()]


def _check(key: dg.AssetKey, name: str, blocking: bool, description: str, body: CheckBody) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key, name=name, blocking=blocking, description=description, required_resource_keys={"delta_io"}
    )
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return body(context.resources.delta_io)

    return check


def _scan(io: DeltaIOManager, key: dg.AssetKey, side: str | None = None) -> pl.LazyFrame:
    return pl.scan_delta(io.store.uri(key.path, side))


def _row_ids_unique(io: DeltaIOManager, key: dg.AssetKey) -> dg.AssetCheckResult:
    counts = _scan(io, key).select(pl.len().alias("rows"), pl.col(ROW_ID).n_unique().alias("ids")).collect().row(0)
    rows, ids = counts
    return dg.AssetCheckResult(passed=rows == ids, metadata={"rows": rows, "duplicate_ids": rows - ids})


def _schema_as_declared(io: DeltaIOManager, key: dg.AssetKey, declared: tuple[str, ...]) -> dg.AssetCheckResult:
    actual = _scan(io, key).collect_schema().names()
    missing = [c for c in declared if c not in actual]
    return dg.AssetCheckResult(passed=not missing, metadata={"missing_columns": missing, "columns": actual})


def _text(io: DeltaIOManager, key: dg.AssetKey, columns: list[str]) -> dg.AssetCheckResult:
    empty = {
        c: pl.col(c).is_null().or_(pl.col(c).cast(pl.String).str.strip_chars() == "").sum().alias(c) for c in columns
    }
    counts = _scan(io, key).select(*empty.values()).collect().row(0, named=True)
    return dg.AssetCheckResult(passed=not any(counts.values()), metadata={"null_or_empty": counts})


def _rejection_rate(io: DeltaIOManager, key: dg.AssetKey, limit: float) -> dg.AssetCheckResult:
    kept = _scan(io, key).select(pl.len()).collect().item()
    store = io.store
    rejected_uri = store.uri(key.path, "rejected")
    rejected = pl.scan_delta(rejected_uri).select(pl.len()).collect().item() if store.exists(rejected_uri) else 0
    rate = rejected / (kept + rejected) if kept + rejected else 0.0
    top = (
        pl.scan_delta(rejected_uri).group_by(REJECT_RULE).len().sort("len", descending=True).head(3).collect().rows()
        if rejected
        else []
    )
    return dg.AssetCheckResult(
        passed=rate <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rejection_rate": round(rate, 4), "limit": limit, "top_reasons": dict(top)},
    )
