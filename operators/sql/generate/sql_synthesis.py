from __future__ import annotations

from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.database.protocol import Database
from operators.llm.prompt import PromptTemplate
from operators.registry import register
from operators.sql.synthesis import DATABASE_COLUMNS, _DatabaseItemsGenerator

Complexity = Literal["simple", "moderate", "complex", "highly complex"]

COMPLEXITY_GUIDE: dict[str, str] = {
    "simple": "one table, a filter or a sort, at most one aggregate",
    "moderate": "a join of two or three tables, grouping with aggregates, HAVING or ORDER BY with LIMIT",
    "complex": "several joins, a nested sub-query or a set operation (UNION, INTERSECT, EXCEPT), CASE expressions",
    "highly complex": "common table expressions, window functions, correlated sub-queries, several levels of nesting",
}
"""What each level asks for, after OmniSQL's four complexity levels (its Appendix prompt)."""

SQL_SYNTHESIS_PROMPT = PromptTemplate(
    name="sql_synthesis",
    version="1",
    system="You are an expert in SQL who writes realistic, correct queries for a given database.",
    template=(
        "Database engine: {{ engine }}\n\nDatabase schema:\n{{ schema }}\n\n"
        "Write {{ count }} different {{ engine }} queries of {{ complexity }} complexity ({{ guide }}) over this "
        "database. Each query must be a single read-only SELECT statement that a real user of this data could ask "
        "for, use only the tables and columns above, and return a non-trivial result. Vary the tables, columns and "
        'SQL features between queries. Answer with JSON: {"items": [{"sql": "<query>"}, ...]}.'
    ),
)


@register("sql_synthesis")
class SqlSynthesisGenerator(_DatabaseItemsGenerator):
    """Write new SQL queries from each database's schema, at several complexity levels (rows from nothing).

    One prompt per database and complexity level (``simple``, ``moderate``, ``complex``, ``highly complex``, as in
    OmniSQL's synthesis), each answered with ``count`` queries; every query is a new row carrying ``db_id``,
    ``schema``, ``dialect`` and the ``complexity`` it was asked for. Nothing here says the queries run or mean
    anything: follow with ``sql_executable`` (and measure ``sql_hardness``). Raise ``temperature`` and ``n`` for
    more varied batches.
    """

    carried_columns: ClassVar[dict[str, pl.DataType]] = {**DATABASE_COLUMNS, "complexity": pl.String()}
    references = (
        "Li et al. 2025, OmniSQL: Synthesizing High-quality Text-to-SQL Data at Scale, arXiv:2503.02240",
        "Liang et al. 2025, DataFlow (SQLGenerator), arXiv:2512.16676",
    )
    example = "SqlSynthesisGenerator(count=5, complexities=['simple', 'complex'])  # self.synth() in forward()"

    prompt: PromptTemplate = Field(
        SQL_SYNTHESIS_PROMPT, description="Template over engine, schema, count, complexity and guide"
    )
    complexities: list[Complexity] = Field(
        ["simple", "moderate", "complex", "highly complex"], min_length=1, description="Levels asked for"
    )
    max_tokens: int = Field(1024, ge=1, description="Most tokens to generate per answer")

    def prompt_contexts(self, database: Database) -> list[dict[str, Any]]:
        return [
            {**described, "complexity": level, "guide": COMPLEXITY_GUIDE[level]}
            for described in self.databases(database)
            for level in self.complexities
        ]
