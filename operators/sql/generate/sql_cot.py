from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

SQL_COT_PROMPT = PromptTemplate(
    name="sql_cot",
    version="1",
    system="You are a data science expert who solves Text-to-SQL tasks step by step.",
    template=(
        "Database engine: {{ dialect }}\n\nDatabase schema:\n{{ schema }}\n\n"
        "Question: {{ question }}\nEvidence: {{ evidence }}\n\n"
        "A reference query that answers the question:\n{{ sql }}\n\n"
        "Solve the question as if you had not seen the reference: reason step by step about what it asks, which "
        "tables and columns hold the answer, how they join, which conditions, grouping and ordering it needs, and "
        "check your query against the question. Do not mention the reference. End with the final query in a code "
        "block:\n```sql\n-- your query\n```"
    ),
)

_SQL_BLOCK = re.compile(r"```sql\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def final_sql(text: str) -> str | None:
    """The query of the last ```` ```sql ```` block of a reasoning trace, without its comment-only lines."""
    blocks = _SQL_BLOCK.findall(text or "")
    if not blocks:
        return None
    lines = [line for line in blocks[-1].strip().splitlines() if not line.strip().startswith("--")]
    query = "\n".join(lines).strip().rstrip(";").strip()
    return query or None


@register("sql_cot")
class SqlCotGenerator(LLMOperator):
    """Write chain-of-thought solutions of each question: ``n`` reasoning traces, each ending in a SQL query.

    As in OmniSQL's CoT synthesis the model sees the schema, the question with its evidence and the verified
    reference query, and writes a step-by-step solution that ends in a ```` ```sql ```` block; each of the ``n``
    samples (``temperature`` > 0) is a new row naming its question row in ``_parent_ids`` and numbered in
    ``_sample``, with the trace and the query extracted from it. A trace without a final SQL block is rejected as
    ``llm_unparseable_answer``. Follow with ``sql_cot_vote`` to keep one trace per question.
    """

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    key_docs: ClassVar[dict[str, str]] = {
        "output_cot_key": "the reasoning trace, ending in a ```sql block",
        "output_sql_key": "the query of the trace's final ```sql block",
    }
    references = (
        "Li et al. 2025, OmniSQL, arXiv:2503.02240 (CoT synthesis and majority voting)",
        "Liang et al. 2025, DataFlow (Text2SQLCoTGenerator), arXiv:2512.16676",
    )
    example = "SqlCotGenerator(n=4, temperature=0.8)(questions)"

    prompt: PromptTemplate = Field(
        SQL_COT_PROMPT, description="Template over dialect, schema, question, evidence and sql"
    )
    max_tokens: int = Field(1024, ge=1, description="Most tokens to generate per answer")

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_cot_key: Write = "cot",
        output_sql_key: Write = "cot_sql",
    ) -> dict[str, Any]:
        text = (result.text or "").strip()
        query = final_sql(text)
        if query is None:
            raise AnswerError("the trace ends in no ```sql block")
        return {output_cot_key: text, output_sql_key: query}
