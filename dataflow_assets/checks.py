"""Asset checks every pipeline step gets, so that bad data stops before it flows downstream.

- ``row_ids_unique`` (blocking): lineage depends on it.
- ``schema_as_declared`` (blocking): the table has every column the traced pipeline promised at this step.
- ``text_present`` (blocking): the pipeline's text columns are neither null nor empty (``Pipeline.text_columns``),
  checked at and after the first filter step.
- ``rejection_rate`` (warning): a filter step rejects no more than ``Pipeline.max_rejection_rate[step]`` of its
  rows — a sudden jump usually means an upstream change, not a worse corpus.

The checks judge the run's own materialization from the facts the IO manager counted on the frame it wrote
(``dataflow/facts``, ``dagster/row_count``, ``dataflow/rejected``), so a check costs no read of the table: on a
real corpus, reading a text column back just to count empty strings would cost as much as writing it.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg

from operators.tracing import Node
from resources.delta_io import FACTS_METADATA_KEY

Judge = Callable[[dict[str, Any]], dg.AssetCheckResult]


def step_checks(
    group: str, node: Node, *, text_columns: list[str], max_rejection_rate: float | None
) -> list[dg.AssetChecksDefinition]:
    key = dg.AssetKey([group, node.name])
    checks: dict[str, tuple[bool, str, Judge]] = {
        "row_ids_unique": (True, "every _row_id occurs once", _row_ids_unique),
        "schema_as_declared": (
            True,
            "the table has the columns the pipeline declares here",
            lambda written: _schema_as_declared(written, node.columns),
        ),
    }
    if text_columns:
        checks["text_present"] = (True, f"{', '.join(text_columns)}: no null or empty value", _text_present)
    if max_rejection_rate is not None:
        checks["rejection_rate"] = (
            False,
            f"at most {max_rejection_rate:.0%} of the rows rejected",
            lambda written: _rejection_rate(written, max_rejection_rate),
        )
    return [_checks(key, checks)]


def _checks(key: dg.AssetKey, checks: dict[str, tuple[bool, str, Judge]]) -> dg.AssetChecksDefinition:
    """All of a step's checks as one Dagster step: each check run as its own step costs more than the check."""
    specs = [
        dg.AssetCheckSpec(name, asset=key, blocking=blocking, description=description)
        for name, (blocking, description, _) in checks.items()
    ]

    @dg.multi_asset_check(specs=specs, name=f"{'__'.join(key.path)}_checks")
    def run_checks(context: dg.AssetCheckExecutionContext):
        materialization = _materialization_to_judge(context, key)
        written = (
            {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            if materialization is not None
            else None
        )
        for name, (_, _, judge) in checks.items():
            result = judge(written) if written is not None else dg.AssetCheckResult(passed=False)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=name,
                passed=result.passed,
                severity=result.severity,
                metadata=result.metadata,
            )

    return run_checks


def _materialization_to_judge(
    context: dg.AssetCheckExecutionContext, key: dg.AssetKey
) -> dg.AssetMaterialization | None:
    """This run's materialization of the asset, else (a run of checks alone) the latest one. Not simply the latest:
    with concurrent runs on other partitions, the latest may be another run's."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    ours = [r.asset_materialization for r in records if r.asset_key == key]
    if ours:
        return ours[-1]
    latest = context.instance.get_latest_materialization_event(key)
    return latest.asset_materialization if latest is not None else None


def _facts(written: dict[str, Any]) -> dict[str, Any]:
    return written.get(FACTS_METADATA_KEY) or {}


def _row_ids_unique(written: dict[str, Any]) -> dg.AssetCheckResult:
    facts = _facts(written)
    duplicates = facts.get("rows", 0) - facts.get("distinct_row_ids", 0)
    return dg.AssetCheckResult(passed=bool(facts) and duplicates == 0, metadata={"duplicate_ids": duplicates})


def _schema_as_declared(written: dict[str, Any], declared: tuple[str, ...]) -> dg.AssetCheckResult:
    actual = _facts(written).get("columns", [])
    missing = [c for c in declared if c not in actual]
    return dg.AssetCheckResult(passed=bool(actual) and not missing, metadata={"missing_columns": missing})


def _text_present(written: dict[str, Any]) -> dg.AssetCheckResult:
    empty = _facts(written).get("null_or_empty", {})
    return dg.AssetCheckResult(passed=bool(empty) and not any(empty.values()), metadata={"null_or_empty": empty})


def _rejection_rate(written: dict[str, Any], limit: float) -> dg.AssetCheckResult:
    kept, rejected = written.get("dagster/row_count", 0), written.get("dataflow/rejected", 0)
    rate = rejected / (kept + rejected) if kept + rejected else 0.0
    return dg.AssetCheckResult(
        passed=rate <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejection_rate": round(rate, 4),
            "limit": limit,
            "by_reason": dg.MetadataValue.json(written.get("dataflow/rejected_by_reason") or {}),
        },
    )
