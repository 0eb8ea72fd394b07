from __future__ import annotations

from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import OpResult, Read, Refiner, Write
from operators.registry import register
from operators.sql.outcomes import Outcome, decide

_ENGINES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL / MariaDB"}

Format = Literal["omnisql", "code_representation", "basic"]


def render(prompt_format: Format, *, schema: str, question: str, evidence: str | None, dialect: str) -> str:
    """One training prompt (the model's input; its target is the SQL or the reasoning that ends in it)."""
    engine = _ENGINES.get(dialect, dialect)
    hint = (evidence or "").strip()
    if prompt_format == "code_representation":
        # DAIL-SQL's "code representation": the schema as SQL, the question as a comment, the answer begins SELECT.
        note = f"-- External knowledge: {hint}\n" if hint else ""
        return (
            f"{schema}\n\n-- Using valid {engine}, answer the following question for the tables provided above.\n"
            f"{note}-- {question.strip()}\nSELECT"
        )
    if prompt_format == "basic":
        note = f"### Evidence\n{hint}\n\n" if hint else ""
        return f"### Database schema ({engine})\n{schema}\n\n{note}### Question\n{question.strip()}\n\n### SQL\n"
    # OmniSQL-style instruction prompt: task, engine, schema, question with its evidence, what to answer with.
    question_text = f"{hint}\n{question.strip()}" if hint else question.strip()
    return (
        "Task overview:\nYou are a data science expert. Below, you are given a database schema and a natural "
        "language question. Your task is to understand the schema and write a valid SQL query that answers the "
        "question.\n\n"
        f"Database engine:\n{engine}\n\n"
        f"Database schema:\n{schema}\n"
        "This schema describes the database's structure: its tables, columns, primary and foreign keys, and some "
        "example values.\n\n"
        f"Question:\n{question_text}\n\n"
        "Instructions:\n- Return only the information the question asks for, no extra columns.\n"
        "- The query should use only the tables and columns it needs.\n"
        "- Think through the question and the schema step by step before writing the query.\n\n"
        "Output format:\nGive your reasoning, then the final SQL query in a code block:\n```sql\n-- your query\n```"
    )


@register("sql_training_prompt")
class SqlTrainingPromptRefiner(Refiner):
    """Build the training prompt of each Text-to-SQL sample: schema, question and evidence in a model's input format.

    Formats: ``omnisql`` (an instruction with the task, the database engine, the schema with sample values, the
    question with its evidence and the expected output, as OmniSQL trains with; the target is reasoning ending in a
    ```` ```sql ```` block), ``code_representation`` (DAIL-SQL's best zero-shot form: the CREATE statements, the
    question as a SQL comment, and ``SELECT`` to complete) and ``basic`` (markdown sections). Evidence is BIRD's
    "external knowledge"; it is left out when empty. A row without a schema or a question is rejected as
    ``sql_prompt_incomplete``.
    """

    key_method: ClassVar[str] = "build"
    key_docs: ClassVar[dict[str, str]] = {
        "input_question_key": "the natural-language question",
        "input_evidence_key": "external knowledge for the question (may be empty)",
        "input_schema_key": "the database schema text (as sql_schema writes it)",
        "input_dialect_key": "the SQL dialect of the database",
        "output_prompt_key": "the model input for training",
    }
    references = (
        "Li et al. 2025, OmniSQL, arXiv:2503.02240",
        "Gao et al. 2024, DAIL-SQL: Text-to-SQL Empowered by Large Language Models, arXiv:2308.15363",
        "Li et al. 2023, BIRD, arXiv:2305.03111 (evidence)",
    )
    example = "SqlTrainingPromptRefiner(prompt_format='code_representation')(df, output_prompt_key='prompt')"

    prompt_format: Format = Field("omnisql", description="omnisql, code_representation or basic")

    def build(
        self,
        df: pl.DataFrame,
        *,
        input_question_key: Read = "question",
        input_evidence_key: Read = "evidence",
        input_schema_key: Read = "schema",
        input_dialect_key: Read = "dialect",
        output_prompt_key: Write = "prompt",
    ) -> OpResult:
        columns = (input_schema_key, input_question_key, input_evidence_key, input_dialect_key)
        prompts, outcomes = [], []
        for schema, question, evidence, dialect in df.select(columns).iter_rows():
            complete = bool(schema and question and question.strip())
            prompts.append(
                render(self.prompt_format, schema=schema, question=question, evidence=evidence, dialect=dialect)
                if complete
                else None
            )
            outcomes.append(Outcome() if complete else Outcome("sql_prompt_incomplete", "no schema or no question"))
        built = df.with_columns(pl.Series(output_prompt_key, prompts, dtype=pl.String))
        judged = decide(built, outcomes, ["sql_prompt_incomplete"], score="incomplete")
        return OpResult(kept=judged.kept, rejected=judged.rejected)

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        return self.build(df, **self.bind_keys(keys))
