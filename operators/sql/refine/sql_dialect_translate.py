from __future__ import annotations

from typing import ClassVar, Literal

import polars as pl
import sqlglot
from pydantic import Field
from sqlglot.errors import ErrorLevel, SqlglotError

from operators.base import OpResult, Read, Refiner, Write
from operators.registry import register


@register("sql_dialect_translate")
class SqlDialectTranslateRefiner(Refiner):
    """Translate each query from its database's dialect into another engine's (sqlglot), so that one dataset
    serves SQLite, PostgreSQL and MariaDB/MySQL.

    sqlglot rewrites functions, quoting, casts and date arithmetic between dialects (``strftime('%Y', d)`` ->
    ``TO_CHAR(d, 'YYYY')``); a construct it cannot translate raises instead of producing SQL that would mean
    something else (``unsupported_level=RAISE``). The translation is not executed here: run ``sql_executable`` or
    ``sql_execution_match`` against a database of the target engine to check it. A query that cannot be translated
    keeps its row, with a null translation and the reason in the error column.
    """

    key_method: ClassVar[str] = "translate"
    key_docs: ClassVar[dict[str, str]] = {
        "input_sql_key": "the query, in its database's dialect",
        "input_dialect_key": "the dialect the query is written in (as sql_schema writes it)",
        "output_sql_key": "the query in the target dialect; null when it cannot be translated",
        "output_error_key": "why the query could not be translated (null when it was)",
    }
    references = ("sqlglot, https://github.com/tobymao/sqlglot",)
    example = "SqlDialectTranslateRefiner(target='postgres')(df, output_sql_key='sql_postgres')"

    target: Literal["sqlite", "postgres", "mysql"] = Field(description="The dialect to translate into")
    pretty: bool = Field(False, description="Write the translation on several indented lines")

    def translate(
        self,
        df: pl.DataFrame,
        *,
        input_sql_key: Read = "sql",
        input_dialect_key: Read = "dialect",
        output_sql_key: Write = "sql_translated",
        output_error_key: Write = "sql_translation_error",
    ) -> pl.DataFrame:
        translated, errors = [], []
        for sql, dialect in zip(df[input_sql_key], df[input_dialect_key], strict=True):
            try:
                if not sql:
                    raise ValueError("no SQL")
                (text,) = sqlglot.transpile(
                    sql, read=dialect, write=self.target, unsupported_level=ErrorLevel.RAISE, pretty=self.pretty
                )
                translated.append(text)
                errors.append(None)
            except (SqlglotError, ValueError) as error:
                translated.append(None)
                errors.append(str(error).strip().splitlines()[0] or type(error).__name__)
        return df.with_columns(
            pl.Series(output_sql_key, translated, dtype=pl.String),
            pl.Series(output_error_key, errors, dtype=pl.String),
        )

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        return OpResult(kept=self.translate(df, **self.bind_keys(keys)))
