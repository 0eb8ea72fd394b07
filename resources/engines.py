"""Engine resources, discovered: every ``resources/<engine>/`` package that declares ``ENGINE = EngineSpec(...)``.

An engine kind (llm, embedder, database, sandbox, retriever...) is a small protocol in ``operators/`` and a
configurable Dagster resource here. Its package says under which name operators ask for it and how to build the
resource the shipped definitions use, configured from the environment; :func:`engine_resources` builds them all
for the definitions and for the CLI runner alike. An engine whose optional dependency is missing is reported and
left out; a step that needs it then fails with Dagster's "resource not found" naming it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from operators.domains import DomainProblem, describe_failure, domain_packages

PACKAGE = "resources"


@dataclass(frozen=True)
class EngineSpec:
    name: str
    """The resource key, the name operators declare in ``engines``."""
    default_resource: Callable[[Path], Any]
    """Builds the resource from the environment, given the Delta root (caches go beside it). Must be cheap: a
    model or connection is opened when a step first uses it."""
    description: str = ""


@dataclass(frozen=True)
class EngineDiscovery:
    engines: dict[str, EngineSpec]
    problems: list[DomainProblem]


@cache
def discover_engines() -> EngineDiscovery:
    engines: dict[str, EngineSpec] = {}
    problems: list[DomainProblem] = []
    for name, module in domain_packages(importlib.import_module(PACKAGE)):
        if isinstance(module, Exception):
            problems.append(DomainProblem(f"engine {name}", describe_failure(module), "install the engine's extra"))
            continue
        spec = getattr(module, "ENGINE", None)
        if isinstance(spec, EngineSpec):
            engines[spec.name] = spec
    return EngineDiscovery(engines, problems)


def engine_resources(data_root: Path | str) -> dict[str, Any]:
    """Every discovered engine's default resource, by the name operators declare (``Operator.engines``)."""
    return {name: spec.default_resource(Path(data_root)) for name, spec in discover_engines().engines.items()}
