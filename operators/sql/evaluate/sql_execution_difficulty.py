from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, model_validator

from operators.base import Category, OpResult, Read, Write
from operators.columns import REJECT_DETAIL, REJECT_RULE, REJECT_SCORE
from operators.database.protocol import Database
from operators.llm.base import LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult
from operators.progress import track
from operators.registry import register
from operators.sql.execution import ExecutionMatcher
from operators.sql.generate.sql_cot import final_sql

SQL_ANSWER_PROMPT = PromptTemplate(
    name="sql_answer",
    version="1",
    system="You are a data science expert who writes SQL queries that answer questions about a database.",
    template=(
        "Database engine: {{ dialect }}\n\nDatabase schema:\n{{ schema }}\n\n"
        "Question: {{ question }}\nEvidence: {{ evidence }}\n\n"
        "Think step by step, then give the SQL query that answers the question in a code block:\n```sql\n...\n```"
    ),
)

LEVELS = ("extra", "hard", "medium", "easy")


@register("sql_execution_difficulty")
class SqlExecutionDifficultyEvaluator(LLMOperator):
    """How hard a question is for a model: the share of ``generations`` attempts whose query matches the gold
    query's result, and a bucket from it (easy, medium, hard, extra).

    The model answers the question ``generations`` times (each attempt with its own seed, at ``temperature`` > 0);
    each answer's final ```` ```sql ```` query is compared with the gold query by execution on every variant
    (``sql_execution_match``'s conventions). A rate of at least ``thresholds[2]`` is easy, at least
    ``thresholds[1]`` medium, at least ``thresholds[0]`` hard, else extra (DataFlow's defaults: 10 attempts,
    2 / 5 / 9 correct). Attempts whose call failed do not count; a row with no answered attempt is rejected with the
    call's error, and one whose database is not configured as ``sql_unknown_database``.
    """

    category: ClassVar[Category] = Category.EVALUATE
    engines: ClassVar[tuple[str, ...]] = ("llm", "database")
    key_docs: ClassVar[dict[str, str]] = {
        "input_gold_sql_key": "the gold query of the question",
        "input_db_id_key": "the database",
        "output_success_rate_key": "share of the model's attempts whose result matched the gold query's",
        "output_difficulty_key": "easy, medium, hard or extra, by that share",
    }
    references = (
        "Liang et al. 2025, DataFlow (Text2SQLDifficultyClassifier by execution), arXiv:2512.16676",
        "Li et al. 2023, BIRD, arXiv:2305.03111",
    )

    prompt: PromptTemplate = Field(
        SQL_ANSWER_PROMPT, description="Template over dialect, schema, question and evidence"
    )
    generations: int = Field(10, ge=1, le=64, description="Attempts per question")
    temperature: float = Field(0.8, gt=0.0, le=2.0, description="Sampling temperature (attempts must differ)")
    thresholds: tuple[float, float, float] = Field(
        (0.2, 0.5, 0.9), description="Lowest success rates of hard, medium and easy (increasing)"
    )
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")

    @model_validator(mode="after")
    def _increasing(self) -> SqlExecutionDifficultyEvaluator:
        if not self.thresholds[0] <= self.thresholds[1] <= self.thresholds[2]:
            raise ValueError(f"thresholds {self.thresholds} must increase")
        return self

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        input_gold_sql_key: Read = "sql",
        input_db_id_key: Read = "db_id",
        output_success_rate_key: Write = "execution_success_rate",
        output_difficulty_key: Write = "execution_difficulty",
    ) -> dict[str, Any]:
        """The query of one attempt (None when the answer has no ```sql block: a failed attempt)."""
        return {"sql": final_sql(result.text or "")}

    def level(self, rate: float) -> str:
        return LEVELS[sum(rate >= t for t in self.thresholds)]

    def run(self, *frames: pl.DataFrame, llm: LLM, database: Database, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        rows = df.select(self.reads(bound)).to_dicts()
        prompts = [self.build_prompt(row) for row in rows]
        attempts = [
            llm.generate(
                prompts,
                system=self.prompt.system,
                template=self.prompt.id,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=None if self.seed is None else self.seed + attempt,
            )
            for attempt in range(self.generations)
        ]
        matcher = ExecutionMatcher(database)
        known = set(database.db_ids())
        tracker = track("sql_execution_difficulty", len(rows))
        rates, failures = [], []
        for index, row in enumerate(rows):
            answered = [a[index] for a in attempts if a[index].ok]
            gold, db_id = row[bound["input_gold_sql_key"]], row[bound["input_db_id_key"]]
            if db_id not in known:
                rates.append(None)
                failures.append(("sql_unknown_database", f"no database named {db_id!r}"))
            elif not answered:
                error = attempts[0][index]
                rates.append(None)
                failures.append((f"llm_{error.error}", error.error_message or error.error))
            else:
                queries = [self.parse(result, row, **bound)["sql"] for result in answered]
                correct = sum(bool(q) and matcher.match(db_id, q, gold).equal for q in queries)
                rates.append(correct / len(answered))
                failures.append(None)
            tracker.advance(errors=int(failures[-1] is not None))
        judged = df.with_columns(
            pl.Series(bound["output_success_rate_key"], rates, dtype=pl.Float64),
            pl.Series(bound["output_difficulty_key"], [None if r is None else self.level(r) for r in rates], pl.String),
            pl.Series(REJECT_RULE, [f[0] if f else None for f in failures], dtype=pl.String),
            pl.Series(REJECT_DETAIL, [f[1] if f else None for f in failures], dtype=pl.String),
        )
        failed = pl.col(REJECT_RULE).is_not_null()
        return OpResult(
            kept=judged.filter(~failed).drop(REJECT_RULE, REJECT_DETAIL),
            rejected=judged.filter(failed).with_columns(pl.lit(None, pl.Float64).alias(REJECT_SCORE)),
        )
