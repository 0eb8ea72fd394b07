from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import OpResult, Read, Refiner, Write
from operators.database.protocol import Database
from operators.registry import register
from operators.sql.outcomes import Outcome, decide


@register("sql_schema")
class SqlSchemaRefiner(Refiner):
    """Attach each row's database schema (CREATE TABLE statements, keys, sample values) and SQL dialect.

    Later steps read these columns like any other: prompts render the schema, dialect translation starts from the
    dialect, and every training row keeps the exact schema text its prompt was built from (lineage). The schema
    comes from the first variant of the row's database, once per database. A row whose ``db_id`` is not configured
    is rejected as ``sql_unknown_database``.
    """

    engines: ClassVar[tuple[str, ...]] = ("database",)
    key_method: ClassVar[str] = "attach"
    key_docs: ClassVar[dict[str, str]] = {
        "input_db_id_key": "the database name (a configured db_id)",
        "output_schema_key": "the database's CREATE TABLE statements with keys and sample values",
        "output_dialect_key": "the engine's SQL dialect: sqlite, postgres or mysql",
    }
    references = ("Li et al. 2025, OmniSQL, arXiv:2503.02240 (schema with sample values in prompts)",)

    sample_values: int = Field(3, ge=0, le=20, description="Distinct example values shown per column")

    def attach(
        self,
        df: pl.DataFrame,
        database: Database,
        *,
        input_db_id_key: Read = "db_id",
        output_schema_key: Write = "schema",
        output_dialect_key: Write = "dialect",
    ) -> OpResult:
        known = set(database.db_ids())
        schemas = {
            db_id: (database.schema(db_id, sample_values=self.sample_values), database.dialect(db_id))
            for db_id in df[input_db_id_key].unique().to_list()
            if db_id in known
        }
        attached = df.with_columns(
            pl.Series(output_schema_key, [schemas.get(d, (None,))[0] for d in df[input_db_id_key]], dtype=pl.String),
            pl.Series(output_dialect_key, [schemas.get(d, (None, None))[1] for d in df[input_db_id_key]], pl.String),
        )
        outcomes = [
            Outcome() if d in known else Outcome("sql_unknown_database", f"no database named {d!r}")
            for d in df[input_db_id_key]
        ]
        judged = decide(attached, outcomes, ["sql_unknown_database"], score="unknown_database")
        return OpResult(kept=judged.kept, rejected=judged.rejected)

    def run(self, *frames: pl.DataFrame, database: Database, **keys: str) -> OpResult:
        (df,) = frames
        return self.attach(df, database, **self.bind_keys(keys))
