"""sql_execution_match: each of Spider's comparison conventions on real queries, variants that reveal a match by
accident, the filter variant, and the same pairs on PostgreSQL and MariaDB."""

import sqlite3

import pytest

from operators.database.protocol import ExecutionResult, Status
from operators.sql.evaluate.sql_execution_match import SqlExecutionMatchEvaluator
from operators.sql.execution import compare, has_outer_order_by
from operators.sql.filter.sql_execution_match_filter import SqlExecutionMatchFilter
from resources.database.resource import DatabaseResource
from tests.support import frame

PAIRS = [
    # (name, predicted, gold, expected)
    ("identical", "SELECT name FROM authors", "SELECT name FROM authors", True),
    ("columns permuted", "SELECT country, name FROM authors", "SELECT name, country FROM authors", True),
    ("names ignored", "SELECT COUNT(book_id) AS n FROM books", "SELECT COUNT(*) FROM books", True),
    ("duplicates count", "SELECT DISTINCT genre FROM books", "SELECT genre FROM books", False),
    ("row order free without ORDER BY", "SELECT title FROM books ORDER BY title DESC", "SELECT title FROM books", True),
    ("row order bound by ORDER BY", "SELECT title FROM books", "SELECT title FROM books ORDER BY title", False),
    ("same order", "SELECT title FROM books ORDER BY title", "SELECT title FROM books ORDER BY title ASC", True),
    (
        "inner ORDER BY does not order",
        "SELECT title FROM books",
        "SELECT t FROM (SELECT title AS t FROM books ORDER BY title DESC LIMIT 1000) AS s",
        True,
    ),
    ("numbers within 1e-6", "SELECT SUM(price) / COUNT(*) FROM books", "SELECT AVG(price) FROM books", True),
    ("rounded is different", "SELECT ROUND(AVG(price), 1) FROM books", "SELECT AVG(price) FROM books", False),
    ("int equals float", "SELECT COUNT(*) * 1.0 FROM books", "SELECT COUNT(*) FROM books", True),
    ("NULL only equals NULL", "SELECT COALESCE(country, '') FROM authors", "SELECT country FROM authors", False),
    ("dates as text", "SELECT CAST(joined_on AS CHAR(10)) FROM customers", "SELECT joined_on FROM customers", True),
    (
        "booleans as numbers",
        "SELECT price > 30 FROM books",
        "SELECT CASE WHEN price > 30 THEN 1 ELSE 0 END FROM books",
        True,
    ),
    ("both empty", "SELECT name FROM authors WHERE 1 = 0", "SELECT title, genre FROM books WHERE 1 = 0", True),
    ("extra column", "SELECT name, country FROM authors", "SELECT name FROM authors", False),
    ("error never matches", "SELECT nope FROM authors", "SELECT name FROM authors", False),
    ("refused never matches", "WITH d AS (SELECT 1) DELETE FROM authors", "SELECT name FROM authors", False),
    (
        "timeout never matches",
        "SELECT COUNT(*) FROM order_items a, order_items b, order_items c, order_items d",
        "SELECT COUNT(*) FROM order_items",
        False,
    ),
    ("failing gold matches nothing", "SELECT name FROM authors", "SELECT nope FROM authors", False),
]


def _frame(pairs, db_id="bookshop"):
    return frame(
        {name: predicted for name, predicted, _, _ in pairs},
        column="sql",
        gold_sql=[gold for _, _, gold, _ in pairs],
        db_id=[db_id] * len(pairs),
    )


@pytest.fixture
def engine(sqlite_bookshop):
    client = DatabaseResource(
        databases={"bookshop": [f"sqlite:///{p}" for p in sqlite_bookshop]}, timeout_s=0.5
    ).build_client()
    yield client
    client.close()


def _verdicts(result):
    return dict(zip(result["_row_id"], result["execution_match"], strict=True))


def test_each_convention_on_sqlite(engine):
    result = SqlExecutionMatchEvaluator().run(_frame(PAIRS), database=engine).kept
    assert _verdicts(result) == {name: expected for name, _, _, expected in PAIRS}
    reasons = dict(zip(result["_row_id"], result["execution_match_reason"], strict=True))
    assert reasons["identical"] is None
    assert reasons["row order bound by ORDER BY"].startswith("rows differ (in order")
    assert reasons["refused never matches"].startswith("query refused (not_read_only): DELETE is not a query")
    assert reasons["timeout never matches"].startswith("query timeout")
    assert reasons["failing gold matches nothing"].startswith("gold query error (execution_error)")
    assert reasons["extra column"] == "2 column(s) instead of 1" + f" on {engine.variants('bookshop')[0]}"


def test_a_variant_reveals_a_match_by_accident(sqlite_bookshop):
    with sqlite3.connect(sqlite_bookshop[0]) as connection:
        (book_id,) = connection.execute("SELECT book_id FROM books ORDER BY price DESC LIMIT 1").fetchone()
    pair = [("lucky", f"SELECT price FROM books WHERE book_id = {book_id}", "SELECT MAX(price) FROM books", None)]
    one = DatabaseResource(databases={"bookshop": f"sqlite:///{sqlite_bookshop[0]}"}).build_client()
    both = DatabaseResource(databases={"bookshop": [f"sqlite:///{p}" for p in sqlite_bookshop]}).build_client()
    assert _verdicts(SqlExecutionMatchEvaluator().run(_frame(pair), database=one).kept) == {"lucky": True}
    caught = SqlExecutionMatchEvaluator().run(_frame(pair), database=both).kept
    assert _verdicts(caught) == {"lucky": False}
    assert caught["execution_match_reason"][0].endswith(f"on {both.variants('bookshop')[1]}")


def test_gold_queries_run_once_per_variant(engine):
    pair = ("SELECT name FROM authors ORDER BY 1", "SELECT name FROM authors ORDER BY name", True)
    pairs = [(f"p{i}", *pair) for i in range(5)]
    before = engine.usage()
    SqlExecutionMatchEvaluator().run(_frame(pairs), database=engine)
    assert engine.usage().since(before).counts["statements"] == 2 + 5 * 2


def test_the_filter_variant_rejects_mismatches_with_the_reason(engine):
    result = SqlExecutionMatchFilter().run(_frame(PAIRS), database=engine)
    assert sorted(result.kept["_row_id"]) == sorted(name for name, _, _, expected in PAIRS if expected)
    assert set(result.rejected["_reject_rule"]) == {"sql_execution_mismatch"}
    assert result.rejected.filter(result.rejected["_row_id"] == "duplicates count")["_reject_detail"][0]


def test_rows_that_cannot_be_compared(engine):
    df = frame(["SELECT 1", None], column="sql", gold_sql=["SELECT 1", "SELECT 1"], db_id=["library", "bookshop"])
    result = SqlExecutionMatchEvaluator().run(df, database=engine).kept
    assert result["execution_match"].to_list() == [False, False]
    assert result["execution_match_reason"].to_list() == ["no database named 'library'", "no SQL"]


@pytest.mark.services
@pytest.mark.parametrize("server", ["postgres_bookshop", "mariadb_bookshop"])
def test_each_convention_on_servers(request, server):
    scratch = request.getfixturevalue(server)
    client = DatabaseResource(databases={"bookshop": scratch.urls}, timeout_s=0.5).build_client()
    # MariaDB compares strings case-insensitively and pads ORDER BY ties differently; the pairs avoid both.
    result = SqlExecutionMatchEvaluator().run(_frame(PAIRS), database=client).kept
    assert _verdicts(result) == {name: expected for name, _, _, expected in PAIRS}
    client.close()


def _result(rows, columns=None):
    width = columns if columns is not None else (len(rows[0]) if rows else 1)
    return ExecutionResult(Status.OK, rows=tuple(rows), columns=width, row_count=len(rows))


def test_tolerance_and_permutation_together():
    gold = _result([(1.0000001, "b"), (1.0, "a")])
    assert compare(gold, _result([("b", 1.0), ("a", 1.0000001)]), ordered=False) is None
    assert compare(gold, _result([("b", 1.1), ("a", 1.0)]), ordered=False) is not None


def test_truncated_results_are_not_compared():
    gold = ExecutionResult(Status.OK, rows=((1,),), columns=1, row_count=5, truncated=True)
    assert "more rows than the engine keeps" in compare(gold, gold, ordered=False)


def test_outer_order_by():
    assert has_outer_order_by("SELECT a FROM t ORDER BY a", "sqlite")
    assert has_outer_order_by("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1", "sqlite")
    assert has_outer_order_by("(SELECT a FROM t ORDER BY a)", "postgres")
    assert not has_outer_order_by("SELECT * FROM (SELECT a FROM t ORDER BY a) s", "sqlite")
    assert not has_outer_order_by("SELECT a FROM t WHERE a IN (SELECT b FROM u ORDER BY b LIMIT 3)", "mysql")
