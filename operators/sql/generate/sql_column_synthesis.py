from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.database.protocol import Database
from operators.llm.prompt import PromptTemplate
from operators.registry import register
from operators.sql.synthesis import DATABASE_COLUMNS, _DatabaseItemsGenerator

SQL_COLUMN_PROMPT = PromptTemplate(
    name="sql_column_synthesis",
    version="1",
    system="You are an expert in SQL who writes realistic, correct queries for a given database.",
    template=(
        "Database engine: {{ engine }}\n\nDatabase schema:\n{{ schema }}\n\n"
        "Write {{ count }} different {{ engine }} queries that a real user of this data could ask for and that "
        "each use the column {{ column_name }} of the table {{ table_name }} in a meaningful way (filtered, "
        "grouped, aggregated, sorted or returned). Each must be a single read-only SELECT statement using only the "
        'tables and columns above. Answer with JSON: {"items": [{"sql": "<query>"}, ...]}.'
    ),
)


@register("sql_column_synthesis")
class SqlColumnSynthesisGenerator(_DatabaseItemsGenerator):
    """Write SQL queries column by column, so that every column of every table is covered (rows from nothing).

    Synthesis from a whole schema favours the obvious tables and columns; asking once per column spreads the
    queries over the schema (DataFlow's per-column SQL synthesis). One prompt per (database, table, column), each
    answered with ``count`` queries; every query is a new row carrying ``db_id``, ``schema``, ``dialect``,
    ``table_name`` and ``column_name``.
    """

    carried_columns: ClassVar[dict[str, pl.DataType]] = {
        **DATABASE_COLUMNS,
        "table_name": pl.String(),
        "column_name": pl.String(),
    }
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676",)

    prompt: PromptTemplate = Field(
        SQL_COLUMN_PROMPT, description="Template over engine, schema, count, table_name and column_name"
    )
    count: int = Field(2, ge=1, le=100, description="Queries asked for per column")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")

    def prompt_contexts(self, database: Database) -> list[dict[str, Any]]:
        return [
            {**described, "table_name": table, "column_name": column}
            for described in self.databases(database)
            for table, columns in database.tables(described["db_id"]).items()
            for column in columns
        ]
