"""The project's error family.

Every error the framework raises on purpose is a :class:`DataflowError` (a ``ValueError``): its message names the
pipeline, step, parameter, file, line or column at fault, and ``hint`` says what to do next. The CLI prints the
message and the hint on one line each instead of a traceback.
"""

from __future__ import annotations


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
