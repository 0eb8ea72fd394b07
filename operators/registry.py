"""The operator registry: every operator by name, with the structured docs the CLI, the UI and the agent read.

Operators register themselves with ``@register("name")`` when their module is imported; ``operators.domains``
imports every domain package, so nothing lists operators by hand. ``describe`` turns a class into an
:class:`OperatorInfo` built from what the class declares (docstring, typed fields, key parameters, engines,
references, example), never from text restating it.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from operators.base import Category, KeyRole, Operator
from operators.domains import discover, domain_of_module, known_domains
from operators.errors import DataflowError

_OPERATORS: dict[str, type[Operator]] = {}

OperatorType = TypeVar("OperatorType", bound=type[Operator])


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    type: str
    default: Any
    description: str
    required: bool = False


@dataclass(frozen=True)
class KeyInfo:
    """A key binding: the column an operator reads or writes, its default name and what it holds."""

    name: str
    role: str
    default: str
    description: str


@dataclass(frozen=True)
class OperatorInfo:
    name: str
    category: Category
    domain: str
    description: str
    """The docstring's first line."""
    details: str
    """The rest of the docstring."""
    parameters: list[ParameterInfo]
    inputs: list[KeyInfo]
    outputs: list[KeyInfo]
    engines: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    example: str = ""
    requires: list[str] = field(default_factory=list)

    @property
    def keys(self) -> dict[str, str]:
        """Key parameter -> ``read``/``write`` and its default column, e.g. ``{"input_key": "read 'text'"}``."""
        return {k.name: f"{k.role} {k.default!r}" for k in [*self.inputs, *self.outputs]}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["category"] = str(self.category)
        return data


def register(name: str, *, domain: str | None = None):
    """Class decorator: register an operator under ``name`` (the same name as its module).

    The operator's domain is the domain package it lives in (``operators/<domain>/``); an operator defined
    elsewhere (a notebook, a test) names one of the known domains with ``domain=``.
    """

    def decorate(cls: OperatorType) -> OperatorType:
        cls.domain = _domain_for(cls, domain)
        previous = _OPERATORS.get(name)
        if previous is not None and _where(previous) != _where(cls):
            raise DataflowError(
                f"operator name {name!r} is registered twice ({_where(previous)}, {_where(cls)})",
                hint="every operator needs a name of its own; the module and the registry key share it",
            )
        if not (cls.__doc__ or "").strip():
            raise DataflowError(f"operator {cls.__name__} needs a docstring: its first line is its description")
        cls.name = name
        _OPERATORS[name] = cls
        return cls

    return decorate


def _where(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _domain_for(cls: type[Operator], declared: str | None) -> str:
    from_package = domain_of_module(cls.__module__)
    if from_package is not None:
        if declared is not None and declared != from_package:
            raise DataflowError(
                f"{cls.__name__}: domain={declared!r} but it lives in the {from_package!r} domain package",
                hint="drop domain=: an operator's domain is its package",
            )
        return from_package
    domains = known_domains()
    if declared not in domains:
        close = difflib.get_close_matches(str(declared), domains, n=1)
        raise DataflowError(
            f"{cls.__name__}: domain {declared!r} is not a known domain",
            hint=f"did you mean {close[0]!r}?" if close else f"known domains: {', '.join(domains)}",
        )
    return declared


def forget_domain(domain: str) -> None:
    """Drop the operators of a domain that failed to import part-way, so that none of it half-appears."""
    for name in [n for n, cls in _OPERATORS.items() if cls.domain == domain]:
        del _OPERATORS[name]


def registered() -> dict[str, type[Operator]]:
    """Every operator of every domain that imported, by name."""
    discover()
    return dict(_OPERATORS)


def get_operator(name: str) -> type[Operator]:
    """The operator class registered as ``name``; an unknown name suggests the closest ones."""
    operators = registered()
    if name not in operators:
        close = difflib.get_close_matches(name, operators, n=3)
        raise DataflowError(
            f"no operator named {name!r}",
            hint=f"did you mean {', '.join(close)}?" if close else "`dataflow ops` lists them",
        )
    return operators[name]


def describe(cls: type[Operator]) -> OperatorInfo:
    """The structured docs of an operator class."""
    parameters = [
        ParameterInfo(
            name=field_name,
            type=_type_name(info.annotation),
            default=None if info.is_required() else _jsonable(info.get_default(call_default_factory=True)),
            description=info.description or "",
            required=info.is_required(),
        )
        for field_name, info in cls.model_fields.items()
    ]
    keys = [
        KeyInfo(k.name, k.role.value, k.default, cls.key_docs.get(k.name, "")) for k in cls.key_parameters().values()
    ]
    summary, _, details = inspect.cleandoc(cls.__doc__ or "").partition("\n")
    return OperatorInfo(
        name=cls.name,
        category=cls.category,
        domain=cls.domain,
        description=summary.strip(),
        details=details.strip(),
        parameters=parameters,
        inputs=[k for k in keys if k.role == KeyRole.READ.value],
        outputs=[k for k in keys if k.role == KeyRole.WRITE.value],
        engines=list(cls.engines),
        references=list(cls.references),
        example=cls.example,
        requires=list(cls.requires),
    )


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def list_operators() -> list[OperatorInfo]:
    """Every registered operator, sorted by domain, category, then name."""
    return sorted(
        (describe(cls) for cls in registered().values()), key=lambda info: (info.domain, info.category, info.name)
    )
