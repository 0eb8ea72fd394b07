"""``Pipeline``: declared like a torch module, traced into a graph of steps.

``__init__`` holds the sources and operators as attributes; ``forward()`` wires them by calling them. ``trace()``
runs ``forward()`` once on symbolic datasets and returns a :class:`TracedPipeline`, checking every key binding on
the way. The Dagster layer (``dataflow_assets.compiler``) turns that graph into assets; ``TracedPipeline.run``
runs it in memory, which is handy in notebooks and as the baseline of the overhead benchmark.
"""

from __future__ import annotations

import functools
import linecache
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar

import polars as pl

from operators.base import Operator, OpResult
from operators.errors import OperatorParameterError, PipelineDefinitionError
from operators.sequential import Sequential
from operators.sources.file_source import FileSource
from operators.tracing import Dataset, Node, trace

__all__ = ["Dataset", "Pipeline", "TracedPipeline"]

_MEMBER_TYPES = (Operator, Sequential, FileSource)


class Pipeline:
    """Base class of pipelines. Subclasses set ``group`` (the Dagster asset group) and implement ``forward()``."""

    group: ClassVar[str] = ""
    description: ClassVar[str] = ""
    text_columns: ClassVar[tuple[str, ...]] = ()
    """Columns that must never be null or empty where a step has them (checked after every step)."""
    max_rejection_rate: ClassVar[dict[str, float]] = {}
    """Step -> the largest share of its rows it may reject before its ``rejection_rate`` check warns."""
    in_demo: ClassVar[bool] = False
    """True for the pipelines ``dataflow demo`` (the README's main job) runs on their bundled sample data."""
    demo_order: ClassVar[int] = 100
    """Where the pipeline comes in the demo, lowest first."""
    ray_steps: ClassVar[tuple[str, ...]] = ()
    """Steps that may run on a Ray cluster (the ``ray`` resource, ``resources.ray``): row-local steps only, checked
    when the pipeline is traced. Which of them do run on Ray is the resource's choice, per run (default: all)."""

    def __init__(self) -> None:
        object.__setattr__(self, "_members", {})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _naming_the_step(cls, cls.__dict__["__init__"])

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, _MEMBER_TYPES):
            members = self.__dict__.get("_members")
            if members is None:
                raise PipelineDefinitionError(
                    f"{type(self).__name__}: assign operators after calling super().__init__()"
                )
            members[name] = value
        object.__setattr__(self, name, value)

    @classmethod
    def group_name(cls) -> str:
        if cls.group:
            if not re.fullmatch(r"[A-Za-z0-9_]+", cls.group):
                raise PipelineDefinitionError(f"{cls.__name__}.group {cls.group!r}: use letters, digits and '_'")
            return cls.group
        base = cls.__name__.removesuffix("Pipeline") or cls.__name__
        return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()

    def forward(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def run(self, engines: Mapping[str, Any] | None = None) -> dict[str, OpResult]:
        """Read every source and run every step in memory, outside Dagster (a notebook, a script): each step's
        result by name. Engines are given by the names operators declare, e.g.
        ``{"llm": LLMResource().build_client()}``.
        Rows that cannot be ingested are in each source's ``side_tables["quarantine"]``."""
        traced = self.trace()
        sources: dict[str, OpResult] = {}
        for node in traced.sources():
            source: FileSource = node.step
            files = source.files()
            reads = (
                [source.read([f], partition_key=source.relative_name(f)) for f in files]
                if source.partitioned
                else [source.read(files, partition_key=None)]
            )
            sources[node.name] = OpResult(
                kept=pl.concat([r.rows for r in reads], how="diagonal_relaxed"),
                side_tables={"quarantine": pl.concat([r.quarantine for r in reads])},
            )
        return traced.run({name: result.kept for name, result in sources.items()}, engines) | sources

    def trace(self) -> TracedPipeline:
        group = self.group_name()
        names = {id(member): name for name, member in self.__dict__.get("_members", {}).items()}
        nodes = trace(group, names, self.forward)
        _check_ray_steps(group, nodes, self.ray_steps)
        return TracedPipeline(group, nodes, self.text_columns, dict(self.max_rejection_rate), tuple(self.ray_steps))


@dataclass(frozen=True)
class TracedPipeline:
    group: str
    nodes: dict[str, Node]
    text_columns: tuple[str, ...] = ()
    max_rejection_rate: dict[str, float] = field(default_factory=dict)
    ray_steps: tuple[str, ...] = ()

    def sources(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.is_source]

    def children(self, name: str) -> list[Node]:
        return [n for n in self.nodes.values() if name in n.inputs]

    def run(self, sources: dict[str, pl.DataFrame], engines: Mapping[str, Any] | None = None) -> dict[str, OpResult]:
        """Run every step in memory on already-ingested source frames (by source node name), with the engines
        (e.g. ``{"llm": ...}``) that LLM steps need."""
        missing = [n.name for n in self.sources() if n.name not in sources]
        if missing:
            raise PipelineDefinitionError(f"pipeline {self.group!r}: no frame given for source(s) {missing}")
        results: dict[str, OpResult] = {name: OpResult(kept=df) for name, df in sources.items()}
        for node in self.nodes.values():
            if not node.is_source:
                results[node.name] = node.step.run([results[i].kept for i in node.inputs], engines)
        return results


def _check_ray_steps(group: str, nodes: dict[str, Node], ray_steps: tuple[str, ...]) -> None:
    """Refuse a Ray step that is not a step of the pipeline, or whose output for a row depends on other rows: run
    on batches, dedup or a join would see only part of the data and give another answer than on one machine."""
    for name in ray_steps:
        node = nodes.get(name)
        where = f"pipeline {group!r}, ray_steps: {name!r}"
        if node is None or node.is_source:
            steps = [n for n, node in nodes.items() if not node.is_source]
            raise PipelineDefinitionError(f"{where} is not a step", hint=f"the steps are {', '.join(steps)}")
        problem = node.step.not_row_local()
        if problem:
            raise PipelineDefinitionError(
                f"{where} cannot run on Ray: {problem}",
                hint="only row-local steps run on Ray (refiners, evaluators, rule filters, row-wise LLM steps); "
                "dedup, joins and dataset-level steps stay on polars",
            )


def _naming_the_step(cls: type[Pipeline], init: Any) -> Any:
    """Wrap a pipeline's ``__init__`` so that a bad operator parameter names the pipeline and the step too."""

    @functools.wraps(init)
    def wrapped(self: Pipeline, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except OperatorParameterError as error:
            step = _assigned_attribute(error.__traceback__, init.__code__)
            where = f"pipeline {cls.group_name()!r}" + (f", step {step!r}" if step else "")
            raise OperatorParameterError(f"{where}: {error.args[0]}", hint=error.hint, parameter=error.parameter) from (
                None
            )

    return wrapped


def _assigned_attribute(tb: TracebackType | None, code: Any) -> str | None:
    """The ``self.<name> = ...`` statement of ``__init__`` that was running, read from the source lines."""
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is None:
        return None
    filename = tb.tb_frame.f_code.co_filename
    for line_number in range(tb.tb_lineno, max(code.co_firstlineno, tb.tb_lineno - 40) - 1, -1):
        found = re.match(r"\s*self\.(\w+)\s*=", linecache.getline(filename, line_number))
        if found:
            return found.group(1)
    return None
