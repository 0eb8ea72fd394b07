"""What every engine shows the framework, whatever it does: an identity and a usage snapshot.

Operators declare the engines they need by name (``engines = ("llm",)``, ``("database",)``, ``("sandbox",)``...)
and see each through its own small protocol (``operators.llm.protocol.LLM`` and the like). The framework needs
only this much of any engine, so the compiler, the IO manager and lineage treat a new kind of engine like the
others without an edit:

- ``identity``: a string that says which engine produced a result (a model id, a database URL without
  credentials, sandbox limits); it goes into the materialization metadata, the Delta commit and row lineage.
- ``usage()``: a snapshot of running totals; ``snapshot.since(earlier)`` is one step's share, and its
  ``metadata()`` the numbers shown on the materialization.

An engine that implements neither still works: it is named by its class and reports no usage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

ENGINE_NAMES = ("llm", "embedder", "database", "sandbox", "retriever", "classifier")
"""Engine names the shipped operators use; a domain may declare others (the names are resource keys)."""


class Usage(Protocol):
    def since(self, earlier: Any) -> Usage: ...

    def metadata(self) -> Mapping[str, Any]: ...


@runtime_checkable
class Engine(Protocol):
    @property
    def identity(self) -> str: ...

    def usage(self) -> Usage: ...


@dataclass(frozen=True)
class CounterUsage:
    """Usage as named counters (calls, rows, seconds...): the simplest engines need no more."""

    counts: dict[str, float] = field(default_factory=dict)

    def since(self, earlier: CounterUsage) -> CounterUsage:
        return CounterUsage({k: v - earlier.counts.get(k, 0) for k, v in self.counts.items()})

    def metadata(self) -> dict[str, float]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in self.counts.items()}


def engine_identity(engine: Any) -> str:
    """The engine's ``identity``, else its ``model_id`` (LLM clients), else its class name."""
    for attribute in ("identity", "model_id"):
        value = getattr(engine, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(engine).__name__


def engine_usage(engine: Any) -> Usage | None:
    usage = getattr(engine, "usage", None)
    return usage() if callable(usage) else None
