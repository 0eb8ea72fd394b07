"""``DatabaseResource``: the configurable Dagster resource of the ``database`` engine.

It holds named databases (``databases={db_id: [url, ...]}``, one URL or several variants) and the limits every
statement runs under, and implements the operators' ``Database`` protocol itself (a step calls ``execute`` on it
directly). Outside Dagster, ``DatabaseResource(databases=...).build_client()`` gives the same engine.

Passwords do not belong in the configuration (Dagster shows resource configuration in the UI and stores it with
every run): use PostgreSQL's ``PGPASSWORD`` / ``~/.pgpass`` and ``MYSQL_PWD``. Whatever is shown (identity,
metadata, lineage, errors) is built from URLs without credentials in any case.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr, field_validator

from operators.database.protocol import ExecutionResult
from operators.errors import DataflowError
from resources.client_resource import ClientResource
from resources.database.client import DatabaseClient
from resources.database.sample import sample_databases

ENV_DATABASES = "DATAFLOW_SQL_DATABASES"


class DatabaseResource(ClientResource[DatabaseClient], dg.ConfigurableResource):
    databases: dict[str, list[str]] = Field(
        description="db_id -> URL, or a list of URLs of variants (one schema, different contents): "
        "sqlite:///path.db, postgresql://user@host:port/db, mysql://user@host:port/db"
    )
    timeout_s: float = Field(5.0, gt=0, description="Time limit of one statement, in seconds, on every engine")
    max_rows: int = Field(100_000, ge=1, description="Rows of a result kept; the rest are counted and dropped")
    allow_recursive: bool = Field(
        False, description="Allow recursive CTEs (refused by default: their termination cannot be checked)"
    )
    require_unprivileged: bool = Field(
        False,
        description="Refuse a PostgreSQL role or MariaDB user that could write files or change settings, instead "
        "of only logging a warning",
    )

    _client: DatabaseClient | None = PrivateAttr(default=None)

    @field_validator("databases", mode="before")
    @classmethod
    def _variants_as_lists(cls, databases: Any) -> Any:
        if isinstance(databases, dict):
            return {db_id: [urls] if isinstance(urls, str) else urls for db_id, urls in databases.items()}
        return databases

    @classmethod
    def from_env(cls, data_root: Path) -> DatabaseResource:
        """The shipped definitions' databases: ``DATAFLOW_SQL_DATABASES`` as JSON (``{"db_id": "url"}`` or
        ``{"db_id": ["url", ...]}``), else the bundled bookshop sample (two SQLite variants, written beside the
        Delta root the first time). ``DATAFLOW_SQL_TIMEOUT_S`` sets the time limit."""
        configured = os.environ.get(ENV_DATABASES)
        if configured:
            try:
                databases = json.loads(configured)
            except json.JSONDecodeError as error:
                raise DataflowError(
                    f"{ENV_DATABASES} is not JSON: {error}", hint='e.g. {"shop": "postgresql://me@127.0.0.1/shop"}'
                ) from None
        else:
            databases = sample_databases(Path(data_root).parent / "sql")
        return cls(databases=databases, timeout_s=float(os.environ.get("DATAFLOW_SQL_TIMEOUT_S", "5")))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()

    def build_client(self) -> DatabaseClient:
        return DatabaseClient(
            self.databases,
            timeout_s=self.timeout_s,
            max_rows=self.max_rows,
            allow_recursive=self.allow_recursive,
            require_unprivileged=self.require_unprivileged,
        )

    def db_ids(self) -> list[str]:
        return self.client.db_ids()

    def variants(self, db_id: str) -> list[str]:
        return self.client.variants(db_id)

    def dialect(self, db_id: str) -> str:
        return self.client.dialect(db_id)

    def execute(self, db_id: str, sql: str, *, variant: int = 0) -> ExecutionResult:
        return self.client.execute(db_id, sql, variant=variant)

    def execute_all(self, db_id: str, sql: str) -> list[ExecutionResult]:
        return self.client.execute_all(db_id, sql)

    def tables(self, db_id: str) -> dict[str, list[str]]:
        return self.client.tables(db_id)

    def schema(self, db_id: str, *, sample_values: int = 3) -> str:
        return self.client.schema(db_id, sample_values=sample_values)
