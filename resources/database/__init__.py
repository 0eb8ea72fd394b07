"""The ``database`` engine: named SQLite, PostgreSQL and MariaDB/MySQL databases (with variants), queried read-only
behind a statement guard, with per-query time limits and a cap on rows kept."""

from resources.database.resource import DatabaseResource
from resources.engines import EngineSpec

ENGINE = EngineSpec(
    name="database",
    default_resource=DatabaseResource.from_env,
    description="Read-only SQL databases for Text-to-SQL steps",
)
