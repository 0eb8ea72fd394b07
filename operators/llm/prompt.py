"""Prompt templates: named, versioned, rendered from a row's columns.

Templates are Jinja2 (what distilabel and most prompt libraries use) with strict undefined variables: a column
the template uses but the row lacks is an error naming it, never an empty string in the prompt. The columns a
template reads are found by parsing it, so a pipeline checks them at compile time like any other key.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field

from operators.errors import DataflowError

_ENVIRONMENT = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _compiled(template: str) -> jinja2.Template:
    """Compiled once per template text; kept out of the model so that templates stay plain, copyable data."""
    return _ENVIRONMENT.from_string(template)


class PromptTemplate(BaseModel):
    """A named, versioned prompt. Bump ``version`` whenever the wording changes: it is part of the cache key,
    of the step's code version (so Dagster marks the step stale) and of row lineage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Stable name, e.g. 'quality_score'")
    version: str = Field(description="Version of the wording, e.g. '1' or '2024-06-01'")
    template: str = Field(description="Jinja2 text; {{ column }} inserts a column of the row")
    system: str | None = Field(None, description="System prompt sent with every rendered prompt")

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def columns(self) -> list[str]:
        """The row columns the template reads."""
        try:
            parsed = _ENVIRONMENT.parse(self.template)
        except jinja2.TemplateSyntaxError as error:
            raise DataflowError(f"prompt template {self.id}: line {error.lineno}: {error.message}") from error
        return sorted(jinja2.meta.find_undeclared_variables(parsed))

    def render(self, row: dict[str, Any]) -> str:
        try:
            return _compiled(self.template).render(**row)
        except jinja2.UndefinedError as error:
            raise DataflowError(
                f"prompt template {self.id}: {error.message}",
                hint=f"the row has columns {', '.join(sorted(row))}",
            ) from error
