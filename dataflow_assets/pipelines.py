"""The pipelines, discovered: every ``Pipeline`` subclass with a ``group``, in the domain packages
``dataflow_assets/<domain>/`` (the pipelines, prompts and sample data of one domain live together there).

Discovery imports the pipeline modules but builds nothing: a pipeline is constructed (and its input folder looked
at) only when it is asked for. A domain package that fails to import (a missing optional dependency, a bug) is
reported as one :class:`~operators.domains.DomainProblem` line and left out; every other domain keeps working.
``dataflow_assets`` is namespace-extended like ``operators``, so a domain package in another folder on the import
path plugs in without an edit here.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from dataclasses import dataclass, field
from functools import cache

from operators.domains import DomainProblem, describe_failure, discover, domain_packages
from operators.errors import DataflowError, MissingDependencyError
from operators.pipeline import Pipeline

PACKAGE = "dataflow_assets"


@dataclass(frozen=True)
class PipelineDiscovery:
    pipelines: dict[str, type[Pipeline]] = field(default_factory=dict)
    """Group name -> pipeline class."""
    domains: dict[str, str] = field(default_factory=dict)
    """Group name -> the domain package that holds it."""
    problems: list[DomainProblem] = field(default_factory=list)


@cache
def discover_pipelines() -> PipelineDiscovery:
    found = PipelineDiscovery()
    operator_problems = {p.domain: p for p in discover().problems}
    for domain, package in domain_packages(importlib.import_module(PACKAGE)):
        if domain in operator_problems:  # its operators are left out, so are its pipelines
            found.problems.append(operator_problems[domain])
            continue
        if isinstance(package, Exception):
            found.problems.append(_problem(domain, package))
            continue
        try:
            modules = [
                importlib.import_module(info.name)
                for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
            ]
        except Exception as error:
            found.problems.append(_problem(domain, error))
            continue
        for module in [package, *modules]:
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, Pipeline) and cls.__module__ == module.__name__ and "group" in cls.__dict__:
                    _add(found, cls, domain)
    return found


def _add(found: PipelineDiscovery, cls: type[Pipeline], domain: str) -> None:
    group = cls.group_name()
    if group in found.pipelines and found.pipelines[group] is not cls:
        raise DataflowError(
            f"two pipelines use the group {group!r}: {found.pipelines[group].__qualname__} and {cls.__qualname__}",
            hint="every pipeline needs a group name of its own",
        )
    found.pipelines[group] = cls
    found.domains[group] = domain


def _problem(domain: str, error: BaseException) -> DomainProblem:
    if isinstance(error, MissingDependencyError):
        return DomainProblem(domain, error.args[0], error.hint or "install the domain's extra")
    hint = "install the domain's extra" if isinstance(error, ImportError) else "run `dataflow --debug ...`"
    return DomainProblem(domain, describe_failure(error), hint)


def pipeline_names() -> list[str]:
    return sorted(discover_pipelines().pipelines)


def demo_pipelines() -> list[str]:
    """What ``dataflow demo``, the README's main job, runs: the pipelines that say ``in_demo = True``, in the
    order of their ``demo_order``."""
    pipelines = discover_pipelines().pipelines
    return sorted((g for g, cls in pipelines.items() if cls.in_demo), key=lambda g: (pipelines[g].demo_order, g))


def input_env(name: str) -> str:
    """The variable naming a pipeline's input folder, e.g. ``DATAFLOW_TEXT_PRETRAIN_INPUT``."""
    return f"DATAFLOW_{name.upper()}_INPUT"


def get_pipeline(name: str) -> Pipeline:
    """The named pipeline, on the folder in its input variable if set, else on its bundled sample data."""
    found = discover_pipelines()
    if name not in found.pipelines:
        left_out = [p.line() for p in found.problems]
        raise DataflowError(
            f"no pipeline named {name!r}",
            hint=f"known pipelines: {', '.join(sorted(found.pipelines))}"
            + (f"; {'; '.join(left_out)}" if left_out else ""),
        )
    folder = os.environ.get(input_env(name))
    cls = found.pipelines[name]
    return cls(folder) if folder else cls()
