"""``Sequential``: several cheap operators run as one pipeline step.

Like ``torch.nn.Sequential``: twenty rule filters become one asset, one pass over the data and one Delta write
instead of twenty round trips. The stage still reports which rule of which operator rejected each row, and keeps
every filter's scores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import polars as pl

from operators.base import BoundOperator, Filter, Operator, OpResult, Rule, apply_prepared_rules, doc_summary
from operators.columns import PARTITION, ROW_ID
from operators.errors import PipelineDefinitionError


class Sequential:
    """Run refiners, evaluators and filters in order inside one step.

    Each item is an operator (default keys) or an ``(operator, {key: column})`` pair. Generators are not allowed:
    they mint new row ids, which would hide the stage's rejections from lineage; give them their own step.
    """

    def __init__(self, *items: Operator | tuple[Operator, dict[str, str]]) -> None:
        if not items:
            raise PipelineDefinitionError("Sequential needs at least one operator")
        self.steps: list[BoundOperator] = []
        for position, item in enumerate(items):
            op, keys = item if isinstance(item, tuple) else (item, {})
            if not isinstance(op, Operator):
                raise PipelineDefinitionError(f"Sequential item {position} is {type(op).__name__}, not an operator")
            if op.new_rows:
                raise PipelineDefinitionError(
                    f"Sequential item {position} ({type(op).__name__}) is a generator of new rows",
                    hint="generators mint new row ids; make them a step of their own",
                )
            self.steps.append(op.bind(keys, where=f"Sequential item {position}"))

    generates_rows = False

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for step in self.steps for name in step.engines))

    @property
    def filters_rows(self) -> bool:
        return any(step.filters_rows for step in self.steps)

    history = None  # a stage takes no history of its own; put a history-using operator in a step of its own

    def not_row_local(self) -> str | None:
        """Why this stage cannot run on batches of its input (on Ray), or None when every item can."""
        problems = [f"item {i}: {p}" for i, step in enumerate(self.steps) if (p := step.not_row_local())]
        return "; ".join(problems) or None

    def __call__(self, *data: Any) -> Any:
        tracer = next((d.tracer for d in data if hasattr(d, "tracer")), None)
        if tracer is not None:
            return tracer.record(self, data, {})
        return self.run(list(data)).kept

    def bind(self, keys: dict[str, str], *, where: str) -> Sequential:
        if keys:
            raise PipelineDefinitionError(f"{where}: a Sequential takes no keys; bind them to its items")
        return self

    def columns_after(self, inputs: list[list[str]], *, where: str) -> list[str]:
        columns = inputs
        for position, step in enumerate(self.steps):
            columns = [step.columns_after(columns, where=f"{where}, item {position} ({type(step.op).__name__})")]
        return columns[0]

    def run(self, frames: list[pl.DataFrame], engines: Mapping[str, Any] | None = None) -> OpResult:
        (df,) = frames
        rejected: list[pl.DataFrame] = []
        scores: pl.DataFrame | None = None
        for label, part in self._parts(engines):
            result = part(df)
            df = result.kept
            if result.rejected is not None:
                rejected.append(result.rejected)
            if result.scores is not None:
                scores = _merge_scores(scores, result.scores, prefix=label)
        return OpResult(
            kept=df,
            rejected=pl.concat(rejected, how="diagonal_relaxed") if rejected else None,
            scores=scores,
        )

    def _parts(self, engines: Mapping[str, Any] | None) -> list[tuple[str, Callable[[pl.DataFrame], OpResult]]]:
        """The stage's work in order. Consecutive row-local rule filters are fused into one pass, one
        ``apply_rules`` over all their rules in order (after each filter's ``prepare``), so polars evaluates them
        together and computes a shared sub-expression (a tokenization, a line split) once. The decisions are the
        same as one filter after the other; the fused filters just score every row, not only those the earlier
        ones kept. Every other operator runs on its own."""
        parts: list[tuple[str, Callable[[pl.DataFrame], OpResult]]] = []
        fused: list[BoundOperator] = []
        for step in self.steps:
            if isinstance(step.op, Filter) and step.op.row_local and not step.engines:
                fused.append(step)
                continue
            if fused:
                parts.append(("filters", partial(_run_fused, fused)))
                fused = []
            parts.append((step.op.name or type(step.op).__name__, partial(_run_step, step, engines)))
        if fused:
            parts.append(("filters", partial(_run_fused, fused)))
        return parts

    def code_version(self) -> str:
        joined = "|".join(step.code_version() for step in self.steps)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def summary(self) -> str:
        return f"stage of {len(self.steps)}: " + "; ".join(
            f"{step.op.name or type(step.op).__name__} ({doc_summary(type(step.op))})" for step in self.steps
        )

    def column_docs(self) -> dict[str, str]:
        docs: dict[str, str] = {}
        for step in self.steps:
            docs.update(step.column_docs())
        return docs

    def describe(self) -> dict[str, Any]:
        return {"operator": "sequential", "category": "stage", "items": [s.describe() for s in self.steps]}


def _run_step(step: BoundOperator, engines: Mapping[str, Any] | None, df: pl.DataFrame) -> OpResult:
    return step.run([df], engines)


def _run_fused(filters: list[BoundOperator], df: pl.DataFrame) -> OpResult:
    prepared = df
    rules: dict[str, Rule] = {}
    for step in filters:
        prepared = step.op.prepare(prepared, step.keys)
        _add_rules(rules, step.op.rules(**step.keys))
    return apply_prepared_rules(df, prepared, rules)


def _add_rules(fused: dict[str, Rule], rules: dict[str, Rule]) -> None:
    """Add a filter's rules to a fused set, numbering a reason or score name another filter already uses for
    something else (two word-count filters on different columns), so that no rule or score is overwritten."""
    taken_scores = {rule.score.meta.output_name(): rule.score for rule in fused.values()}
    for reason, rule in rules.items():
        name = rule.score.meta.output_name()
        if name in taken_scores and not taken_scores[name].meta.eq(rule.score):
            rule = replace(rule, score=rule.score.alias(_numbered(name, taken_scores)))
        fused[_numbered(reason, fused)] = rule


def _numbered(name: str, taken: Mapping[str, Any]) -> str:
    number = 1
    candidate = name
    while candidate in taken:
        number += 1
        candidate = f"{name}.{number}"
    return candidate


def _merge_scores(accumulated: pl.DataFrame | None, new: pl.DataFrame, *, prefix: str) -> pl.DataFrame:
    """Join a filter's scores onto the stage's; rows rejected earlier have no later scores (null)."""
    if accumulated is None:
        return new
    new = new.drop(PARTITION, strict=False)
    clashing = [c for c in new.columns if c != ROW_ID and c in accumulated.columns]
    new = new.rename({c: f"{prefix}.{c}" for c in clashing})
    return accumulated.join(new, on=ROW_ID, how="left")
