from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.columns import ROW_ID
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register
from operators.sql.synthesis import DATABASE_COLUMNS, ENGINE_NAMES, SQL_ITEM

SQL_VARIATION_PROMPT = PromptTemplate(
    name="sql_variation",
    version="1",
    system="You are an expert in SQL who rewrites queries into new, meaningful queries over the same database.",
    template=(
        "Database engine: {{ engine }}\n\nDatabase schema:\n{{ schema }}\n\nOriginal query:\n{{ sql }}\n\n"
        "Write {{ count }} new {{ engine }} queries that vary the original one, each in a different way: change the "
        "values or conditions it filters on, change its structure (joins, grouping, nesting, set operations), ask "
        "a related business question, make it more complex, or use SQL features it does not use (CASE, window "
        "functions, common table expressions). Each must be a single read-only SELECT statement using only the "
        'tables and columns above, and mean something different from the original. Answer with JSON: {"items": '
        '[{"sql": "<query>"}, ...]}.'
    ),
)


@register("sql_variation")
class SqlVariationGenerator(LLMItemsGenerator):
    """Write variations of each query: new queries over the same database that differ in values, structure,
    business logic, complexity or SQL features (DataFlow's SQL augmentation dimensions).

    Each variation is a new row naming its original in ``_parent_ids`` and carrying the original's ``db_id``,
    ``schema`` and ``dialect``; the original row is not part of the output (concatenate it back if wanted).
    Follow with ``sql_executable``: nothing here checks that a variation runs.
    """

    inputs: ClassVar[int | None] = 1
    carried_columns: ClassVar[dict[str, pl.DataType]] = DATABASE_COLUMNS
    references = (
        "Liang et al. 2025, DataFlow (SQLVariationGenerator), arXiv:2512.16676",
        "Text2SQL-Flow: A SQL-Aware Data Augmentation Framework, arXiv:2511.10192",
    )

    prompt: PromptTemplate = Field(SQL_VARIATION_PROMPT, description="Template over engine, schema, sql and count")
    item_schema: dict[str, Any] = Field(SQL_ITEM, description="Object JSON schema of one generated query")
    count: int = Field(3, ge=1, le=100, description="Variations asked for per query")
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")

    def reads(self, keys: dict[str, str]) -> list[str]:
        given = {"engine", "count"}
        return list(dict.fromkeys([*(c for c in self.prompt.columns() if c not in given), *self.carried_columns]))

    def build_prompts(self, df: pl.DataFrame) -> list[ItemsPrompt]:
        prompts = []
        for row in df.select(ROW_ID, *self.reads({})).to_dicts():
            context = {**row, "engine": ENGINE_NAMES.get(row["dialect"], row["dialect"]), "count": self.count}
            carried = {column: row[column] for column in self.carried_columns}
            prompts.append(ItemsPrompt(self.prompt.render(context), [row[ROW_ID]], carried))
        return prompts
