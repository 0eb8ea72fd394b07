from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field
from sqlglot.errors import SqlglotError

from operators.base import Evaluator, OpResult, Read, Write
from operators.registry import register
from operators.sql.components import components
from operators.sql.outcomes import Outcome, decide


@register("sql_hardness")
class SqlHardnessEvaluator(Evaluator):
    """Spider's hardness bucket of each query (easy, medium, hard, extra) from the SQL components it uses.

    Counts joins, conditions, OR/LIKE, GROUP BY / ORDER BY / LIMIT, aggregates, selected columns, nested queries and
    set operations of the outermost query, and buckets them by the rules of Spider's ``eval_hardness``
    (``operators.sql.components`` says where it departs from Spider's quirks). Needs no database. A query that does
    not parse cannot be judged: its row is rejected as ``sql_unparseable``.
    """

    key_method: ClassVar[str] = "judge"
    key_docs: ClassVar[dict[str, str]] = {
        "input_sql_key": "the SQL query",
        "output_key": "Spider's hardness: easy, medium, hard or extra",
    }
    references = ("Yu et al. 2018, Spider, arXiv:1809.08887 (evaluation.py, eval_hardness)",)
    example = "SqlHardnessEvaluator(dialect='sqlite')(df, input_sql_key='sql', output_key='hardness')"

    dialect: str | None = Field(
        None, description="sqlglot dialect to parse in (sqlite, postgres, mysql...); None: sqlglot's generic SQL"
    )

    def judge(self, df: pl.DataFrame, *, input_sql_key: Read = "sql", output_key: Write = "hardness") -> OpResult:
        buckets, outcomes = [], []
        for sql in df[input_sql_key]:
            try:
                buckets.append(components(sql or "", self.dialect).hardness)
                outcomes.append(Outcome())
            except (SqlglotError, ValueError) as error:
                buckets.append(None)
                outcomes.append(Outcome("sql_unparseable", str(error).splitlines()[0] if str(error) else "no SQL"))
        with_buckets = df.with_columns(pl.Series(output_key, buckets, dtype=pl.String))
        judged = decide(with_buckets, outcomes, ["sql_unparseable"], score="unparseable")
        return OpResult(kept=judged.kept, rejected=judged.rejected)

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        return self.judge(df, **self.bind_keys(keys))
