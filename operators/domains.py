"""Domains: the packages that hold operators, found by walking ``operators`` instead of by a hand-kept list.

A domain is a subpackage ``operators/<name>/`` whose ``__init__.py`` declares ``DOMAIN = DomainSpec(...)``: its
name (the package's), what it is for, the modules it needs beyond the core install and the extra that installs
them. Every module under it is imported by :func:`discover`, which is how its operators reach the registry. A
domain whose requirements are missing, or that fails to import, is reported (:class:`DomainProblem`, one line with
the cause and the install hint) and left out; the other domains are unaffected.

``operators`` is a namespace-extended package (``pkgutil.extend_path``), so a domain can also live in another
folder on the import path (``<folder>/operators/<name>/``): it plugs in without an edit to this project.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import traceback
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

PACKAGE = "operators"


@dataclass(frozen=True)
class DomainSpec:
    """What a domain package says about itself in ``DOMAIN``."""

    name: str
    description: str
    requires: tuple[str, ...] = ()
    """Importable modules the domain needs beyond the core install, e.g. ``("math_verify", "sympy")``."""
    extra: str | None = None
    """The ``pyproject.toml`` extra that installs ``requires`` (``pip install -e '.[math]'``)."""

    def missing(self) -> list[str]:
        return [module for module in self.requires if importlib.util.find_spec(module) is None]

    def install_hint(self) -> str:
        return f"pip install -e '.[{self.extra}]'" if self.extra else f"pip install {' '.join(self.requires)}"


@dataclass(frozen=True)
class DomainProblem:
    """A domain left out, and why; ``line()`` is what the CLI and the definitions print."""

    domain: str
    cause: str
    hint: str

    def line(self) -> str:
        return f"domain {self.domain!r} left out: {self.cause} (hint: {self.hint})"


@dataclass(frozen=True)
class Discovery:
    domains: dict[str, DomainSpec] = field(default_factory=dict)
    """Domains whose modules all imported."""
    problems: list[DomainProblem] = field(default_factory=list)


def domain_packages(package: ModuleType) -> list[tuple[str, ModuleType | Exception]]:
    """The subpackages of ``package`` (on every folder of its extended path), imported; a failed import is returned
    as its exception."""
    found: list[tuple[str, ModuleType | Exception]] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        try:
            found.append((info.name, importlib.import_module(f"{package.__name__}.{info.name}")))
        except Exception as error:  # a broken domain must not take the others down
            found.append((info.name, error))
    return found


def import_all(package: ModuleType) -> None:
    """Import every module below ``package``; the first failure propagates."""
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(info.name)


def describe_failure(error: BaseException) -> str:
    """One line naming the error and where it happened."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}".replace("\n", " ")


@cache
def discover() -> Discovery:
    """Import every domain package of ``operators`` once; their operators register themselves on import."""
    from operators.registry import forget_domain  # the registry imports this module

    root = importlib.import_module(PACKAGE)
    discovery = Discovery()
    for name, module in domain_packages(root):
        if isinstance(module, Exception):
            discovery.problems.append(DomainProblem(name, describe_failure(module), "fix the domain's __init__.py"))
            continue
        spec = getattr(module, "DOMAIN", None)
        if not isinstance(spec, DomainSpec):
            continue  # a framework package (llm, sources), not a domain
        missing = spec.missing()
        if missing:
            discovery.problems.append(DomainProblem(name, f"missing {', '.join(missing)}", spec.install_hint()))
            continue
        try:
            import_all(module)
        except Exception as error:
            forget_domain(name)
            for loaded in [m for m in sys.modules if m.startswith(f"{module.__name__}.")]:
                sys.modules.pop(loaded, None)
            hint = spec.install_hint() if isinstance(error, ImportError) else "run `dataflow --debug ops` for details"
            discovery.problems.append(DomainProblem(name, describe_failure(error), hint))
            continue
        discovery.domains[name] = spec
    return discovery


def domain_of_module(module: str) -> str | None:
    """The domain a module belongs to by its package (``operators.text.filter.x`` -> ``text``), if any."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != PACKAGE:
        return None
    package = sys.modules.get(f"{PACKAGE}.{parts[1]}")
    spec = getattr(package, "DOMAIN", None)
    return spec.name if isinstance(spec, DomainSpec) else None


def known_domains() -> list[str]:
    """Every domain package that declared itself, loaded or not."""
    return sorted(
        name
        for name, module in domain_packages(importlib.import_module(PACKAGE))
        if isinstance(getattr(module, "DOMAIN", None), DomainSpec)
    )
