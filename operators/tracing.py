"""Tracing ``forward()`` into a graph, in the manner of torch.fx.

While a pipeline is traced, datasets are symbolic: calling an operator on one records a node (after checking
that the columns it reads exist) and returns a new symbolic dataset carrying the columns available after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from operators.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from operators.base import OpResult
    from operators.sources.file_source import FileSource


class Step(Protocol):
    """What a pipeline node runs: a bound operator, a ``Sequential`` stage, or a source."""

    generates_rows: bool

    def describe(self) -> dict[str, Any]: ...

    def summary(self) -> str:
        """One line saying what the step does (the asset's description in the UI)."""
        ...

    def column_docs(self) -> dict[str, str]:
        """Column -> what it holds, for the columns the step writes."""
        ...


class ComputeStep(Step, Protocol):
    def columns_after(self, inputs: list[list[str]], *, where: str) -> list[str]: ...

    @property
    def engines(self) -> tuple[str, ...]: ...

    @property
    def filters_rows(self) -> bool:
        """True when the step removes rows by rules (a filter, or a stage holding one)."""
        ...

    @property
    def history(self) -> str | None: ...

    def not_row_local(self) -> str | None:
        """Why the step cannot run on batches of its input (on Ray), or None when it can."""
        ...

    def run(self, frames: list[pl.DataFrame], engines: Mapping[str, Any] | None = None) -> OpResult: ...

    def code_version(self) -> str: ...


@dataclass(frozen=True)
class Node:
    """One step of a traced pipeline; it becomes the asset ``<group>/<name>``."""

    name: str
    step: Any  # ComputeStep, or FileSource for source nodes
    inputs: tuple[str, ...]
    columns: tuple[str, ...]
    partitioned: bool
    """True when the node shares its source's partitioning; False for unpartitioned pipelines and fan-in steps."""

    @property
    def is_source(self) -> bool:
        """A source reads files; a generator from nothing also has no inputs but is a step."""
        return getattr(self.step, "is_source", False)

    def code_version(self) -> str:
        return self.step.fingerprint() if self.is_source else self.step.code_version()


@dataclass(frozen=True)
class Dataset:
    """A symbolic dataset during tracing: the output of one node and the columns it has."""

    tracer: Tracer
    node: str
    columns: tuple[str, ...]
    partitioned: bool

    def all_partitions(self) -> Dataset:
        """Feed every partition at once to the next step: that step becomes an unpartitioned fan-in step
        (global dedup, a dataset-level evaluator)."""
        return replace(self, partitioned=False)


@dataclass
class Tracer:
    group: str
    names: dict[int, str]
    """Attribute name of each operator/stage/source of the pipeline, by ``id()``."""
    nodes: dict[str, Node] = field(default_factory=dict)

    def _name_for(self, member: Any) -> str:
        base = self.names.get(id(member))
        if base is None:
            raise PipelineDefinitionError(
                f"pipeline {self.group!r}: forward() calls a {type(member).__name__} that is not an attribute",
                hint="create operators in __init__ (self.name = Operator(...)) and call them in forward()",
            )
        name, count = base, 1
        while name in self.nodes:
            count += 1
            name = f"{base}_{count}"
        return name

    def record_source(self, source: FileSource) -> Dataset:
        name = self._name_for(source)
        node = Node(name, source, (), tuple(source.output_columns()), bool(source.partitioned))
        self.nodes[name] = node
        return Dataset(self, name, node.columns, node.partitioned)

    def record(self, member: Any, data: tuple[Any, ...], keys: dict[str, str]) -> Dataset:
        name = self._name_for(member)
        where = f"pipeline {self.group!r}, step {name!r}"
        if not all(isinstance(d, Dataset) and d.tracer is self for d in data):
            raise PipelineDefinitionError(f"{where}: every input must be a dataset of this pipeline's forward()")
        step = member.bind(keys, where=where)
        columns = step.columns_after([list(d.columns) for d in data], where=where)
        partitioned = bool(data) and all(d.partitioned for d in data)  # a generator from nothing: unpartitioned
        self.nodes[name] = Node(name, step, tuple(d.node for d in data), tuple(columns), partitioned)
        return Dataset(self, name, tuple(columns), partitioned)


_ACTIVE: ContextVar[Tracer | None] = ContextVar("active_tracer", default=None)


def active_tracer() -> Tracer | None:
    """The tracer of the ``forward()`` being traced, if any."""
    return _ACTIVE.get()


def current_tracer() -> Tracer:
    tracer = _ACTIVE.get()
    if tracer is None:
        raise PipelineDefinitionError(
            "a source was called outside Pipeline.trace()",
            hint="call sources only inside forward(); use operators.sources.readers to read one directly",
        )
    return tracer


def trace(group: str, names: dict[int, str], forward: Any) -> dict[str, Node]:
    """Run ``forward()`` with a tracer active and return the recorded nodes in execution order."""
    tracer = Tracer(group, names)
    token = _ACTIVE.set(tracer)
    try:
        forward()
    finally:
        _ACTIVE.reset(token)
    if not tracer.nodes:
        raise PipelineDefinitionError(f"pipeline {group!r}: forward() recorded no steps")
    return tracer.nodes
