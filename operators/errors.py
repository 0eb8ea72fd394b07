"""The project's error family.

Every error the framework raises on purpose is a :class:`DataflowError` (a ``ValueError``): its message names the
pipeline, step, parameter, file, line or column at fault, and ``hint`` says what to do next. The CLI prints the
message and the hint on one line each instead of a traceback.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class DataflowError(ValueError):
    """Base class: a problem the user can fix, with an optional hint on how."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}\n  hint: {self.hint}" if self.hint else message


class OperatorDefinitionError(DataflowError, TypeError):
    """An operator class is declared wrongly (raised when the class is defined, not when it runs)."""


class KeyValidationError(DataflowError):
    """A key binding names a parameter the operator does not have, or a column that is not there."""


class PipelineDefinitionError(DataflowError):
    """A pipeline's ``forward()`` cannot be traced into a graph."""


class SourceReadError(DataflowError):
    """A source file cannot be read at all (missing, unreadable, not of its declared format)."""


class SchemaChangeError(DataflowError):
    """A step's output changed a column's type while other partitions of its table keep the old type."""


class LineageError(DataflowError):
    """A lineage query names an asset or row that does not exist."""


class MissingDependencyError(DataflowError, ImportError):
    """An optional dependency is not installed; the hint names the extra that installs it."""


class OperatorParameterError(DataflowError, TypeError):
    """An operator was given a parameter it does not have, or an invalid value.

    The message names the operator and the parameter, and the hint the closest valid name; a pipeline adds its
    own name and the step's (``Pipeline`` wraps ``__init__``).
    """

    def __init__(self, message: str, *, hint: str | None = None, parameter: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.parameter = parameter

    @classmethod
    def from_validation(cls, model: type[Any], error: ValidationError) -> OperatorParameterError:
        """The first problem pydantic found, said in our words."""
        fields = list(model.model_fields)
        problem = error.errors()[0]
        parameter = ".".join(str(part) for part in problem["loc"]) or "?"
        top = str(problem["loc"][0]) if problem["loc"] else ""
        if problem["type"] == "extra_forbidden":
            close = difflib.get_close_matches(top, fields, n=1)
            return cls(
                f"{model.__name__} has no parameter {top!r}",
                hint=(f"did you mean {close[0]!r}? " if close else "") + f"its parameters are {', '.join(fields)}",
                parameter=top,
            )
        message = problem["msg"].removeprefix("Value error, ")
        return cls(
            f"{model.__name__}: parameter {parameter!r}: {message} (got {problem.get('input')!r:.80})",
            hint=f"`dataflow ops {getattr(model, 'name', '') or model.__name__}` describes its parameters",
            parameter=top,
        )
