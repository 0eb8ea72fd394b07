"""What the SQL generators share: prompts built from whole databases, answers as lists of queries.

A generator of this kind reads no dataset: it asks the ``database`` engine for its databases (or the ``db_ids`` it
is given) and their schemas, builds its prompts from them, and turns each query in an answer into a new row that
carries the database's ``db_id``, ``schema`` and ``dialect``, so every later step (and a row's lineage) knows which
database a query was written for and from which schema text.
"""

from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import OpResult
from operators.database.protocol import Database
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.protocol import LLM

SQL_ITEM: dict[str, Any] = {
    "type": "object",
    "properties": {"sql": {"type": "string", "minLength": 8}},
    "required": ["sql"],
}
"""One generated query."""

DATABASE_COLUMNS: dict[str, pl.DataType] = {"db_id": pl.String(), "schema": pl.String(), "dialect": pl.String()}

ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL / MariaDB"}


class _DatabaseItemsGenerator(LLMItemsGenerator):
    """Base: ``prompt_contexts(database)`` gives the template variables (and carried columns) of each prompt."""

    inputs: ClassVar[int | None] = 0
    engines: ClassVar[tuple[str, ...]] = ("llm", "database")
    carried_columns: ClassVar[dict[str, pl.DataType]] = DATABASE_COLUMNS

    item_schema: dict[str, Any] = Field(SQL_ITEM, description="Object JSON schema of one generated query")
    db_ids: list[str] | None = Field(None, description="Databases to write queries for (default: every one)")
    sample_values: int = Field(3, ge=0, le=20, description="Example values per column shown in the schema")

    def databases(self, database: Database) -> list[dict[str, Any]]:
        """The carried columns of each database, plus ``engine`` (its name in words) for the template."""
        return [
            {
                "db_id": db_id,
                "schema": database.schema(db_id, sample_values=self.sample_values),
                "dialect": database.dialect(db_id),
                "engine": ENGINE_NAMES.get(database.dialect(db_id), database.dialect(db_id)),
            }
            for db_id in (self.db_ids or database.db_ids())
        ]

    def prompt_contexts(self, database: Database) -> list[dict[str, Any]]:
        raise NotImplementedError

    def build_prompts(self, contexts: pl.DataFrame) -> list[ItemsPrompt]:
        return [
            ItemsPrompt(
                self.prompt.render({**context, "count": self.count}),
                carried={column: context[column] for column in self.carried_columns},
            )
            for context in contexts.to_dicts()
        ]

    def run(self, *frames: pl.DataFrame, llm: LLM, database: Database, **keys: str) -> OpResult:
        return super().run(pl.DataFrame(self.prompt_contexts(database)), llm=llm, **keys)
