"""Real databases for the Text-to-SQL tests: the bookshop sample as SQLite files, and as scratch PostgreSQL and
MariaDB databases with a read-only role (created for the session and dropped afterwards; nothing else is touched).

Conftests import the fixtures they need. The servers are found through ``DATAFLOW_TEST_PG_ADMIN`` and
``DATAFLOW_TEST_MARIADB_ADMIN`` (admin URLs; defaults: this machine's trust/empty-password accounts); a test that
needs an unreachable server skips, naming it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from resources.database import sample
from resources.database.urls import DatabaseURL

PG_ADMIN = os.environ.get("DATAFLOW_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("DATAFLOW_TEST_MARIADB_ADMIN", "mysql://root@127.0.0.1:3306/test")
READER_PASSWORD = "s3cret-" + uuid.uuid4().hex[:8]
"""The scratch MariaDB user's password: tests check that it never shows."""


@dataclass(frozen=True)
class Scratch:
    """Variant databases of the bookshop on one server, and how to read them as admin."""

    urls: list[str]
    """URLs as the read-only role/user (what the engine under test connects with)."""
    admin_urls: list[str]
    """The same databases as an admin, for checksums and for the bypass tests."""
    dialect: str


@pytest.fixture(scope="session")
def sqlite_bookshop(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("bookshop")
    return [sample.write_sqlite(folder / f"seed{seed}.sqlite", seed) for seed in sample.SEEDS]


def _pg_admin(database: str):
    import psycopg

    url = DatabaseURL.parse(PG_ADMIN)
    return psycopg.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, dbname=database, autocommit=True
    )


@pytest.fixture(scope="session")
def postgres_bookshop() -> Iterator[Scratch]:
    import psycopg

    url = DatabaseURL.parse(PG_ADMIN)
    try:
        admin = _pg_admin(url.database)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {url.identity()}: {str(error).strip().splitlines()[0]}")
    token = uuid.uuid4().hex[:10]
    role, databases = f"dataflow_reader_{token}", [f"dataflow_sql_{token}_{seed}" for seed in sample.SEEDS]
    admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        for seed, database in zip(sample.SEEDS, databases, strict=True):
            admin.execute(f"CREATE DATABASE {database}")
            with _pg_admin(database) as connection:
                connection.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
                sample.load(connection, "postgres", seed)
                connection.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
                connection.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        base = f"{url.host}:{url.port}"
        yield Scratch(
            [f"postgresql://{role}@{base}/{d}" for d in databases],
            [f"postgresql://{url.user}@{base}/{d}" for d in databases],
            "postgres",
        )
    finally:
        for database in databases:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()


def _mariadb_admin(database: str | None = None):
    import pymysql

    url = DatabaseURL.parse(MARIADB_ADMIN)
    return pymysql.connect(
        host=url.host, port=url.port, user=url.user, password=url.password or "", database=database, autocommit=True
    )


@pytest.fixture(scope="session")
def mariadb_bookshop() -> Iterator[Scratch]:
    import pymysql

    url = DatabaseURL.parse(MARIADB_ADMIN)
    try:
        admin = _mariadb_admin()
    except pymysql.Error as error:
        pytest.skip(f"MariaDB is not reachable at {url.identity()}: {error}")
    token = uuid.uuid4().hex[:10]
    user, databases = f"dfreader_{token}", [f"dataflow_sql_{token}_{seed}" for seed in sample.SEEDS]
    cursor = admin.cursor()
    cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{READER_PASSWORD}'")
    try:
        for seed, database in zip(sample.SEEDS, databases, strict=True):
            cursor.execute(f"CREATE DATABASE {database}")
            with _mariadb_admin(database) as connection:
                sample.load(connection, "mysql", seed)
            cursor.execute(f"GRANT SELECT ON {database}.* TO '{user}'@'%'")
        base = f"{url.host}:{url.port}"
        yield Scratch(
            [f"mysql://{user}:{READER_PASSWORD}@{base}/{d}" for d in databases],
            [f"mysql://{url.user}@{base}/{d}" for d in databases],
            "mysql",
        )
    finally:
        for database in databases:
            cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


def checksums(url: str) -> dict[str, str]:
    """A digest of every table (and of the list of tables) of a database, read as admin; for SQLite, of the file and
    of its folder's listing (an ATTACH or VACUUM INTO would add a file)."""
    parsed = DatabaseURL.parse(url)
    if parsed.dialect == "sqlite":
        path = Path(parsed.path)
        listing = sorted(p.name for p in path.parent.iterdir())
        return {"file": hashlib.sha256(path.read_bytes()).hexdigest(), "folder": ",".join(listing)}
    if parsed.dialect == "postgres":
        with _pg_admin(parsed.database) as connection:
            tables = [r[0] for r in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            digests = {t: _digest(connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
            settings = connection.execute("SELECT name, setting FROM pg_settings ORDER BY name").fetchall()
    else:
        with _mariadb_admin(parsed.database) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW TABLES")
            tables = [r[0] for r in cursor.fetchall()]
            digests = {}
            for table in tables:
                cursor.execute(f"SELECT * FROM {table}")
                digests[table] = _digest(cursor.fetchall())
            cursor.execute("SHOW GLOBAL VARIABLES")
            settings = [r for r in cursor.fetchall() if r[0] not in _VOLATILE_MARIADB]
    return digests | {"__tables__": ",".join(sorted(tables)), "__settings__": _digest(settings)}


_VOLATILE_MARIADB = {"gtid_binlog_pos", "gtid_current_pos", "gtid_binlog_state", "timestamp"}


def _digest(rows: list) -> str:
    return hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
