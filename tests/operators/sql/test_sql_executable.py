"""sql_executable on real databases: one row per rejection reason, on every variant, with the reason's detail."""

import pytest

from operators.sql.filter.sql_executable import SqlExecutableFilter
from resources.database.resource import DatabaseResource
from tests.support import frame

ROWS = {
    "ok": ("SELECT genre, COUNT(*) FROM books GROUP BY genre", "bookshop"),
    "join": ("SELECT a.name FROM authors a JOIN books b ON a.author_id = b.author_id WHERE b.price > 50", "bookshop"),
    "syntax": ("SELECT name FROM WHERE", "bookshop"),
    "write": ("WITH d AS (SELECT 1) DELETE FROM books", "bookshop"),
    "two": ("SELECT 1; SELECT 2", "bookshop"),
    "slow": ("SELECT COUNT(*) FROM order_items a, order_items b, order_items c, order_items d", "bookshop"),
    "unknown column": ("SELECT isbn FROM books", "bookshop"),
    "unknown db": ("SELECT 1", "library"),
    "empty": ("", "bookshop"),
}
EXPECTED = {
    "syntax": "sql_syntax_error",
    "write": "sql_not_read_only",
    "two": "sql_not_read_only",
    "slow": "sql_timeout",
    "unknown column": "sql_execution_error",
    "unknown db": "sql_unknown_database",
    "empty": "sql_syntax_error",
}


def _rows():
    return frame({k: v[0] for k, v in ROWS.items()}, column="sql", db_id=[v[1] for v in ROWS.values()])


def _check(result, variants):
    assert sorted(result.kept["_row_id"]) == ["join", "ok"]
    rejected = dict(zip(result.rejected["_row_id"], result.rejected["_reject_rule"], strict=True))
    assert rejected == EXPECTED
    details = dict(zip(result.rejected["_row_id"], result.rejected["_reject_detail"], strict=True))
    assert variants[0] in details["unknown column"] and "isbn" in details["unknown column"]
    assert details["unknown db"] == "no database named 'library'"
    assert set(result.scores.columns) == {"_row_id", "sql_elapsed_s"}


def test_one_rejection_per_reason_on_sqlite(sqlite_bookshop):
    database = DatabaseResource(databases={"bookshop": [f"sqlite:///{p}" for p in sqlite_bookshop]}, timeout_s=0.5)
    client = database.build_client()
    result = SqlExecutableFilter().run(_rows(), database=client)
    _check(result, client.variants("bookshop"))
    assert client.usage().counts["statements"] == 2 * 2 + 5  # the kept run on both variants; failures stop at one


@pytest.mark.services
@pytest.mark.parametrize("server", ["postgres_bookshop", "mariadb_bookshop"])
def test_one_rejection_per_reason_on_servers(request, server):
    scratch = request.getfixturevalue(server)
    client = DatabaseResource(databases={"bookshop": scratch.urls}, timeout_s=0.5).build_client()
    _check(SqlExecutableFilter().run(_rows(), database=client), client.variants("bookshop"))
    client.close()


def test_custom_keys(sqlite_bookshop):
    client = DatabaseResource(databases={"shop": f"sqlite:///{sqlite_bookshop[0]}"}).build_client()
    df = frame(["SELECT 1", "DROP TABLE books"], column="query", database=["shop", "shop"])
    result = SqlExecutableFilter()(df, database=client, input_sql_key="query", input_db_id_key="database")
    assert result["_row_id"].to_list() == ["r0"]
