"""The database engine on real SQLite files: results, limits, each refusal class through the guard, the read-only
connection holding on its own when the guard is bypassed, files unchanged, and the schema text for prompts."""

import logging
from pathlib import Path

import pytest

from operators.database.protocol import Cause, Database, Status
from operators.engines import CounterUsage
from resources.database import sample
from resources.database.backends.sqlite import SQLiteBackend
from resources.database.resource import DatabaseResource
from resources.database.urls import DatabaseURL, DatabaseURLError
from tests.sql_support import checksums

UNSAFE = [
    "DELETE FROM books",
    "UPDATE books SET price = 0",
    "INSERT INTO authors VALUES (999, 'x', NULL, NULL)",
    "DROP TABLE reviews",
    "CREATE TABLE t AS SELECT 1",
    "SELECT 1; DELETE FROM books",
    "WITH d AS (SELECT 1) DELETE FROM books",
    "ATTACH DATABASE '{folder}/evil.db' AS evil",
    "VACUUM INTO '{folder}/copy.db'",
    "PRAGMA writable_schema = 1",
    "PRAGMA user_version = 7",
    "SELECT load_extension('{folder}/evil.so')",
    "SELECT readfile('/etc/passwd')",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
    "SELECT COUNT(*) FROM order_items a, order_items b, order_items c, order_items d",
    "SELECT * FROM order_items a, order_items b, order_items c, order_items d",
]


@pytest.fixture
def engine(sqlite_bookshop):
    client = DatabaseResource(
        databases={"bookshop": [f"sqlite:///{p}" for p in sqlite_bookshop]}, timeout_s=0.5, max_rows=50
    ).build_client()
    yield client
    client.close()


def test_the_client_implements_the_protocol(engine):
    assert isinstance(engine, Database)
    assert engine.db_ids() == ["bookshop"]
    assert engine.dialect("bookshop") == "sqlite"
    assert len(engine.variants("bookshop")) == 2


def test_a_query_runs_on_each_variant(engine):
    results = engine.execute_all("bookshop", "SELECT COUNT(*) FROM books")
    expected = [len(sample.rows(seed)["books"]) for seed in sample.SEEDS]
    assert [r.rows for r in results] == [((n,),) for n in expected]
    assert all(r.status is Status.OK and r.columns == 1 and not r.truncated for r in results)
    assert [r.database for r in results] == engine.variants("bookshop")


def test_rows_beyond_the_cap_are_counted_not_kept(engine):
    result = engine.execute("bookshop", "SELECT order_id FROM order_items")
    assert result.ok and result.truncated
    assert len(result.rows) == 50
    assert result.row_count == len(sample.rows(sample.SEEDS[0])["order_items"])


@pytest.mark.parametrize("sql", UNSAFE)
def test_unsafe_statements_are_refused_or_stopped_and_change_nothing(engine, sqlite_bookshop, sql):
    folder = sqlite_bookshop[0].parent
    before = [checksums(f"sqlite:///{p}") for p in sqlite_bookshop]
    for variant in range(2):
        result = engine.execute("bookshop", sql.format(folder=folder), variant=variant)
        assert result.status in (Status.REFUSED, Status.TIMEOUT), result
        assert result.reason
    assert [checksums(f"sqlite:///{p}") for p in sqlite_bookshop] == before
    assert not (folder / "evil.db").exists() and not (folder / "copy.db").exists()


def test_a_runaway_query_is_stopped_by_the_clock_not_the_row_cap(engine):
    result = engine.execute("bookshop", "SELECT * FROM order_items a, order_items b, order_items c")
    assert result.status is Status.TIMEOUT and result.cause is Cause.TIMEOUT
    assert 0.5 <= result.elapsed_s < 1.5


def test_recursive_ctes_when_allowed_are_bounded_by_the_time_limit(sqlite_bookshop):
    client = DatabaseResource(
        databases={"b": f"sqlite:///{sqlite_bookshop[0]}"}, timeout_s=0.3, allow_recursive=True
    ).build_client()
    finite = client.execute(
        "b", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r"
    )
    assert finite.rows == ((1,), (2,), (3,), (4,), (5,))
    runaway = client.execute("b", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r")
    assert runaway.status is Status.TIMEOUT


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM books",
        "INSERT INTO authors VALUES (999, 'x', NULL, NULL)",
        "CREATE TABLE t (a INT)",
        "ATTACH DATABASE '{folder}/evil.db' AS evil",
        "VACUUM INTO '{folder}/copy.db'",
        "PRAGMA user_version = 7",
        "PRAGMA journal_mode = DELETE",
        "SELECT load_extension('x')",
        "SELECT zeroblob(100000000)",
    ],
)
def test_the_connection_itself_refuses_writes_when_the_guard_is_bypassed(sqlite_bookshop, sql):
    """Defence in depth: the backend alone (no guard) still cannot write, attach or load code."""
    path = sqlite_bookshop[1]
    before = checksums(f"sqlite:///{path}")
    backend = SQLiteBackend(DatabaseURL.parse(f"sqlite:///{path}"))
    result = backend.run(sql.format(folder=path.parent), timeout_s=1, max_rows=10)
    backend.close()
    assert result.status in (Status.REFUSED, Status.ERROR), result
    assert checksums(f"sqlite:///{path}") == before
    assert not (path.parent / "evil.db").exists() and not (path.parent / "copy.db").exists()


def test_engine_errors_are_results_with_reasons(engine):
    unknown = engine.execute("bookshop", "SELECT no_such_column FROM books")
    assert (unknown.status, unknown.cause) == (Status.ERROR, Cause.EXECUTION_ERROR)
    assert "no_such_column" in unknown.reason
    syntax = engine.execute("bookshop", "SELECT FROM WHERE")
    assert (syntax.status, syntax.cause) == (Status.REFUSED, Cause.SYNTAX_ERROR)


def test_usage_counts_statements_by_outcome(engine):
    before = engine.usage()
    engine.execute("bookshop", "SELECT 1")
    engine.execute("bookshop", "DELETE FROM books")
    engine.execute("bookshop", "SELECT nope FROM books")
    used = engine.usage().since(before)
    assert isinstance(used, CounterUsage)
    assert used.metadata() | {"seconds": 0} == {
        "statements": 3,
        "ok": 1,
        "refused": 1,
        "timeouts": 0,
        "errors": 1,
        "rows": 1,
        "seconds": 0,
    }


def test_schema_for_prompts(engine):
    text = engine.schema("bookshop")
    assert text.count("CREATE TABLE") == len(sample.TABLES)
    assert "PRIMARY KEY (order_id, book_id)" in text
    assert "FOREIGN KEY (author_id) REFERENCES authors (author_id)" in text
    genres = next(line for line in text.splitlines() if line.strip().startswith("genre"))
    assert "-- examples: 'Biography', 'Fantasy', 'History'" in genres
    assert engine.schema("bookshop", sample_values=0).count("examples") == 0


def test_identity_and_unknown_databases(engine, sqlite_bookshop):
    assert engine.identity.startswith(f"bookshop=[sqlite:///{sqlite_bookshop[0]}, ")
    assert "0.5 s per query" in engine.identity
    with pytest.raises(KeyError, match="no database named 'shop'"):
        engine.execute("shop", "SELECT 1")


def test_configuration_errors_name_the_problem(tmp_path):
    with pytest.raises(DatabaseURLError, match="no such database file"):
        DatabaseResource(databases={"x": f"sqlite:///{tmp_path}/missing.db"}).build_client().execute("x", "SELECT 1")
    with pytest.raises(DatabaseURLError, match="unknown scheme 'oracle'"):
        DatabaseResource(databases={"x": "oracle://u:pw@h/db"}).build_client()
    with pytest.raises(DatabaseURLError, match="variants on different engines"):
        DatabaseResource(databases={"x": ["sqlite:///a.db", "postgresql://h/db"]}).build_client()


def test_passwords_never_show():
    url = DatabaseURL.parse("postgresql://reader:hunter2@db.example:6543/shop")
    assert url.identity() == "postgresql://db.example:6543/shop"
    assert url.scrub("password authentication failed: hunter2") == "password authentication failed: ***"
    client = DatabaseResource(databases={"shop": "mysql://reader:hunter2@db.example/shop"}).build_client()
    assert "hunter2" not in client.identity and "reader" not in client.identity
    with pytest.raises(DatabaseURLError) as refused:
        DatabaseURL.parse("oracle://reader:hunter2@db.example/shop")
    assert "hunter2" not in str(refused.value)


def test_from_env_defaults_to_the_bundled_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("DATAFLOW_SQL_DATABASES", raising=False)
    resource = DatabaseResource.from_env(tmp_path / "delta")
    urls = resource.databases["bookshop"]
    assert [Path(DatabaseURL.parse(u).path).parent for u in urls] == [(tmp_path / "sql").resolve()] * 2
    assert resource.execute("bookshop", "SELECT COUNT(*) FROM authors").ok
    monkeypatch.setenv("DATAFLOW_SQL_DATABASES", '{"mine": "sqlite:///x.db"}')
    assert DatabaseResource.from_env(tmp_path / "delta").databases == {"mine": ["sqlite:///x.db"]}


def test_the_sample_is_deterministic(tmp_path):
    first = sample.write_sqlite(tmp_path / "a.sqlite", 1)
    second = sample.write_sqlite(tmp_path / "b.sqlite", 1)
    assert first.read_bytes() == second.read_bytes()
    assert sample.rows(1) != sample.rows(2)


def test_sqlglot_fallback_warnings_are_quiet(engine, caplog):
    with caplog.at_level(logging.WARNING):
        engine.execute("bookshop", "VACUUM")
    assert not [r for r in caplog.records if "Falling back" in r.getMessage()]
