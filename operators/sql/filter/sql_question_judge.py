from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Rule, Write, apply_rules
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

SQL_QUESTION_JUDGE_PROMPT = PromptTemplate(
    name="sql_question_judge",
    version="1",
    system="You check Text-to-SQL training data: does a SQL query answer exactly the question it is paired with?",
    template=(
        "Database schema:\n{{ schema }}\n\nQuestion: {{ question }}\nEvidence: {{ evidence }}\n\nSQL query:\n{{ sql }}"
        "\n\nDoes the query return exactly what the question asks for: the same entities, every condition of the "
        "question and no other, the same aggregation, grouping, ordering and limit? Small differences in wording "
        'do not matter; a missing or extra condition, column or aggregate does. Answer with JSON: {"consistent": '
        'true or false, "reason": "<one sentence>"}.'
    ),
)


@register("sql_question_judge")
class SqlQuestionJudgeFilter(LLMOperator):
    """Keep question/SQL pairs an LLM judges to correspond: the query returns exactly what the question asks.

    Back-translated questions drift from their queries (a condition dropped, an aggregate added); the judge reads
    the schema, the question with its evidence and the query, and answers ``consistent`` with a one-sentence
    reason (kept on every row). Rejection: ``sql_question_mismatch``; failed calls as ``llm_<error kind>``.
    """

    category: ClassVar[Category] = Category.FILTER
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"output_key": pl.Boolean()}
    key_docs: ClassVar[dict[str, str]] = {
        "output_key": "whether the judge found the question and the query to correspond",
        "output_reason_key": "the judge's one-sentence reason",
    }
    references = (
        "Liang et al. 2025, DataFlow (correspondence filter), arXiv:2512.16676",
        "Li et al. 2025, OmniSQL, arXiv:2503.02240",
    )

    prompt: PromptTemplate = Field(
        SQL_QUESTION_JUDGE_PROMPT, description="Template over schema, question, evidence and sql"
    )
    max_tokens: int = Field(128, ge=1, description="Most tokens to generate per answer")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"consistent": {"type": "boolean"}, "reason": {"type": "string"}},
            "required": ["consistent"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_key: Write = "question_consistent",
        output_reason_key: Write = "question_judge_reason",
    ) -> dict[str, Any]:
        answer = result.parsed
        if not isinstance(answer, dict) or not isinstance(answer.get("consistent"), bool):
            raise AnswerError("no boolean 'consistent' in the answer")
        return {output_key: answer["consistent"], output_reason_key: str(answer.get("reason") or "").strip()}

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        verdict = pl.col(keys["output_key"])
        rule = Rule(
            score=verdict.cast(pl.Float64).alias(keys["output_key"]),
            keep=verdict,
            detail=pl.col(keys["output_reason_key"]),
        )
        return apply_rules(answered, {"sql_question_mismatch": rule})
