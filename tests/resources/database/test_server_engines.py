"""The database engine on the real PostgreSQL and MariaDB: scratch databases (two variants each) read through a
role/user with SELECT only. Every refusal class is refused or stopped, the read-only session holds when the guard
is bypassed, and checksums of every table (and the server settings) are the same before and after."""

import logging

import pytest

from operators.database.protocol import Cause, Status
from resources.database import sample
from resources.database.backends.mysql import MySQLBackend
from resources.database.backends.postgres import PostgresBackend
from resources.database.resource import DatabaseResource
from resources.database.urls import DatabaseURL, DatabaseURLError
from tests.sql_support import READER_PASSWORD, checksums

pytestmark = pytest.mark.services

SERVERS = ["postgres_bookshop", "mariadb_bookshop"]

UNSAFE = {
    "common": [
        "DELETE FROM books",
        "UPDATE books SET price = 0",
        "INSERT INTO authors VALUES (999, 'x', NULL, NULL)",
        "DROP TABLE reviews",
        "CREATE TABLE stolen AS SELECT * FROM customers",
        "SELECT 1; DELETE FROM books",
        "WITH d AS (SELECT 1) DELETE FROM books",
        "SELECT * FROM books FOR UPDATE",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
        "SELECT COUNT(*) FROM order_items a, order_items b, order_items c, order_items d",
        "SELECT a.order_id FROM order_items a, order_items b, order_items c, order_items d",
    ],
    "postgres": [
        "COPY books TO PROGRAM 'touch /tmp/dataflow_pwned'",
        "COPY (SELECT * FROM customers) TO '/tmp/dataflow_customers.csv'",
        "ALTER SYSTEM SET work_mem = '1GB'",
        "SET statement_timeout = 0",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT pg_sleep(30)",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT * INTO stolen FROM customers",
        "WITH d AS (DELETE FROM books RETURNING *) SELECT * FROM d",
        "SELECT query_to_xml('DELETE FROM books', true, true, '')",
    ],
    "mysql": [
        "SELECT * FROM customers INTO OUTFILE '/tmp/dataflow_customers.txt'",
        "SELECT LOAD_FILE('/etc/passwd')",
        "SET GLOBAL max_connections = 1",
        "SET SESSION max_statement_time = 0",
        "SELECT SLEEP(30)",
        "SELECT BENCHMARK(1000000000, MD5('x'))",
        "SELECT 1 /*!50000 , SLEEP(30) */",
        "SELECT @a := 1",
        "LOAD DATA INFILE '/etc/passwd' INTO TABLE books",
    ],
}


@pytest.fixture(params=SERVERS)
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def engine(server):
    client = DatabaseResource(databases={"bookshop": server.urls}, timeout_s=1, max_rows=50).build_client()
    yield client
    client.close()


def test_queries_run_on_each_variant(engine, server):
    assert engine.dialect("bookshop") == server.dialect
    results = engine.execute_all("bookshop", "SELECT COUNT(*) FROM books")
    assert [r.rows[0][0] for r in results] == [len(sample.rows(seed)["books"]) for seed in sample.SEEDS]
    capped = engine.execute("bookshop", "SELECT order_id FROM order_items")
    assert capped.truncated and len(capped.rows) == 50
    assert capped.row_count == len(sample.rows(sample.SEEDS[0])["order_items"])


def test_every_unsafe_statement_is_refused_or_stopped_and_nothing_changes(engine, server):
    before = [checksums(url) for url in server.admin_urls]
    statements = UNSAFE["common"] + UNSAFE[server.dialect]
    outcomes = {sql: engine.execute("bookshop", sql, variant=1) for sql in statements}
    assert {sql: r.status for sql, r in outcomes.items() if r.status not in (Status.REFUSED, Status.TIMEOUT)} == {}
    assert [checksums(url) for url in server.admin_urls] == before
    assert engine.execute("bookshop", "SELECT 1").ok  # the connection survived all of it


BYPASS = {
    "postgres": [
        "DELETE FROM books",
        "CREATE TABLE stolen (a int)",
        "COPY books TO PROGRAM 'touch /tmp/dataflow_pwned'",
        "SELECT pg_read_file('/etc/passwd')",
        "SET default_transaction_read_only = off; DELETE FROM books",
        "ALTER SYSTEM SET work_mem = '1GB'",
    ],
    "mysql": [
        "DELETE FROM books",
        "CREATE TABLE stolen (a int)",
        "SELECT * FROM customers INTO OUTFILE '/tmp/dataflow_customers2.txt'",
        "SET GLOBAL max_connections = 1",
        "SELECT 1; DELETE FROM books",
    ],
}


def test_the_session_itself_refuses_when_the_guard_is_bypassed(server):
    """Defence in depth: the backend alone (no guard) with the read-only role cannot write or touch files."""
    before = [checksums(url) for url in server.admin_urls]
    url = DatabaseURL.parse(server.urls[0])
    backend = (PostgresBackend if server.dialect == "postgres" else MySQLBackend)(
        url, timeout_s=1, require_unprivileged=True
    )
    for sql in BYPASS[server.dialect]:
        result = backend.run(sql, timeout_s=1, max_rows=10)
        assert result.status in (Status.REFUSED, Status.ERROR), (sql, result)
    sleep = "SELECT pg_sleep(5)" if server.dialect == "postgres" else "SELECT SLEEP(5)"
    stopped = backend.run(sleep, timeout_s=1, max_rows=10)
    backend.close()
    assert server.dialect == "mysql" or stopped.status is Status.TIMEOUT
    # MariaDB's SLEEP returns 1 when max_statement_time interrupts it instead of failing; either way it is bounded.
    assert stopped.elapsed_s < 3
    assert [checksums(url) for url in server.admin_urls] == before


def test_engine_errors_keep_their_cause(engine):
    assert engine.execute("bookshop", "SELECT no_such_column FROM books").cause is Cause.EXECUTION_ERROR
    assert engine.execute("bookshop", "SELECT price / 0 FROM books").status in (Status.OK, Status.ERROR)


def test_schema_in_the_dialect(engine, server):
    text = engine.schema("bookshop")
    assert text.count("CREATE TABLE") == len(sample.TABLES)
    assert "FOREIGN KEY (author_id) REFERENCES authors (author_id)" in text
    assert "PRIMARY KEY (order_id, book_id)" in text
    assert ("double precision" if server.dialect == "postgres" else "double") in text.lower()
    assert "examples: 'Biography', 'Fantasy', 'History'" in text


def test_credentials_never_reach_identity_or_errors(mariadb_bookshop):
    engine = DatabaseResource(databases={"shop": mariadb_bookshop.urls}).build_client()
    assert READER_PASSWORD not in engine.identity
    assert all(READER_PASSWORD not in v for v in engine.variants("shop"))
    wrong = mariadb_bookshop.urls[0].replace(READER_PASSWORD, READER_PASSWORD + "x")
    with pytest.raises(DatabaseURLError) as refused:
        DatabaseResource(databases={"shop": wrong}).build_client().execute("shop", "SELECT 1")
    assert READER_PASSWORD not in str(refused.value) and "Access denied" in str(refused.value)
    failed = engine.execute("shop", "SELECT missing FROM books")
    assert READER_PASSWORD not in (failed.reason or "") and READER_PASSWORD not in failed.database


def test_privileged_accounts_are_reported_and_can_be_refused(server, caplog):
    admin = server.admin_urls[0]
    with caplog.at_level(logging.WARNING):
        assert DatabaseResource(databases={"x": admin}).build_client().execute("x", "SELECT 1").ok
    assert any("could" in r.getMessage() and "guard is then the only barrier" in r.getMessage() for r in caplog.records)
    with pytest.raises(DatabaseURLError, match="could"):
        DatabaseResource(databases={"x": admin}, require_unprivileged=True).build_client().execute("x", "SELECT 1")
    assert (
        DatabaseResource(databases={"x": server.urls[0]}, require_unprivileged=True)
        .build_client()
        .execute("x", "SELECT 1")
        .ok
    )
