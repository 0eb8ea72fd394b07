"""The operator registry: every operator by name, with what the CLI and the agent need to know about it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, TypeVar

from operators.base import Category, Operator
from operators.errors import DataflowError

_OPERATORS: dict[str, type[Operator]] = {}

OperatorType = TypeVar("OperatorType", bound=type[Operator])


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    type: str
    default: Any
    description: str


@dataclass(frozen=True)
class OperatorInfo:
    name: str
    category: Category
    domain: str
    description: str
    parameters: list[ParameterInfo]
    keys: dict[str, str]
    """Key parameter -> ``read``/``write`` and its default column, e.g. ``{"input_key": "read 'text'"}``."""


def register(name: str, *, domain: str = "general"):
    """Class decorator: register an operator under ``name`` (the same name as its module)."""

    def decorate(cls: OperatorType) -> OperatorType:
        if name in _OPERATORS and _OPERATORS[name] is not cls:
            raise DataflowError(
                f"operator name {name!r} is registered twice ({_OPERATORS[name].__name__}, {cls.__name__})"
            )
        if not (cls.__doc__ or "").strip():
            raise DataflowError(f"operator {cls.__name__} needs a docstring: its first line is its description")
        cls.name = name
        cls.domain = domain
        _OPERATORS[name] = cls
        return cls

    return decorate


def get_operator(name: str) -> type[Operator]:
    """The operator class registered as ``name``; an unknown name suggests the closest ones."""
    if name not in _OPERATORS:
        close = difflib.get_close_matches(name, _OPERATORS, n=3)
        raise DataflowError(
            f"no operator named {name!r}",
            hint=f"did you mean {', '.join(close)}?" if close else "`dataflow ops` lists them",
        )
    return _OPERATORS[name]


def describe(cls: type[Operator]) -> OperatorInfo:
    parameters = [
        ParameterInfo(
            name=field_name,
            type=getattr(field.annotation, "__name__", str(field.annotation)),
            default=None if field.is_required() else field.get_default(call_default_factory=True),
            description=field.description or "",
        )
        for field_name, field in cls.model_fields.items()
    ]
    keys = {k.name: f"{k.role.value} {k.default!r}" for k in cls.key_parameters().values()}
    return OperatorInfo(
        name=cls.name,
        category=cls.category,
        domain=cls.domain,
        description=(cls.__doc__ or "").strip().splitlines()[0],
        parameters=parameters,
        keys=keys,
    )


def list_operators() -> list[OperatorInfo]:
    """Every registered operator, sorted by category then name."""
    return sorted((describe(cls) for cls in _OPERATORS.values()), key=lambda info: (info.category, info.name))
