"""Agreement with hand-labelled query pairs on three engines: rewrites that mean the same (must match on both
variants of the bookshop) and near misses that do not (must not). The pairs are written in SQL all three engines
accept, so one label holds everywhere."""

import pytest

from operators.sql.evaluate.sql_execution_match import SqlExecutionMatchEvaluator
from resources.database.resource import DatabaseResource
from tests.support import frame

EQUIVALENT = [
    ("SELECT COUNT(*) FROM books", "SELECT COUNT(book_id) FROM books"),
    ("SELECT title, genre FROM books", "SELECT genre AS g, title AS t FROM books"),
    (
        "SELECT name FROM authors WHERE author_id IN (SELECT author_id FROM books WHERE genre = 'Poetry')",
        "SELECT a.name FROM authors a WHERE EXISTS (SELECT 1 FROM books b WHERE b.author_id = a.author_id "
        "AND b.genre = 'Poetry')",
    ),
    (
        "SELECT DISTINCT a.author_id, a.name FROM authors a JOIN books b ON a.author_id = b.author_id "
        "WHERE b.price > 50",
        "SELECT name, author_id FROM authors WHERE author_id IN (SELECT author_id FROM books WHERE price > 50)",
    ),
    (
        "SELECT title FROM books WHERE price BETWEEN 10 AND 20",
        "SELECT title FROM books WHERE price >= 10 AND price <= 20",
    ),
    ("SELECT DISTINCT genre FROM books", "SELECT genre FROM books GROUP BY genre"),
    ("SELECT title FROM books ORDER BY book_id", "SELECT title FROM books ORDER BY book_id ASC"),
    (
        "SELECT title FROM books ORDER BY price DESC, book_id LIMIT 3",
        "SELECT title FROM books ORDER BY price DESC, book_id LIMIT 3",
    ),
    ("SELECT AVG(price) FROM books", "SELECT SUM(price) / COUNT(*) FROM books"),
    ("SELECT MAX(price) FROM books", "SELECT price FROM books ORDER BY price DESC LIMIT 1"),
    (
        "SELECT genre, COUNT(*) FROM books GROUP BY genre HAVING COUNT(*) > 10",
        "SELECT genre, n FROM (SELECT genre, COUNT(*) AS n FROM books GROUP BY genre) AS t WHERE n > 10",
    ),
    (
        "SELECT name FROM customers WHERE country = 'Spain' OR country = 'Japan'",
        "SELECT name FROM customers WHERE country IN ('Spain', 'Japan')",
    ),
    (
        "SELECT country FROM customers UNION SELECT country FROM authors WHERE country IS NOT NULL",
        "SELECT DISTINCT country FROM (SELECT country FROM customers UNION ALL SELECT country FROM authors) AS u "
        "WHERE country IS NOT NULL",
    ),
    (
        "SELECT c.name FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id WHERE o.order_id IS NULL",
        "SELECT name FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)",
    ),
    ("SELECT COUNT(*) FROM reviews WHERE review_text IS NULL", "SELECT COUNT(*) - COUNT(review_text) FROM reviews"),
    (
        "SELECT b.title, a.name FROM books b JOIN authors a ON a.author_id = b.author_id WHERE b.pages > 850",
        "SELECT a.name, b.title FROM authors a, books b WHERE b.author_id = a.author_id AND b.pages > 850",
    ),
    ("SELECT UPPER(name) FROM authors", "SELECT UPPER(a.name) FROM authors AS a"),
    (
        "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status",
        "SELECT status, COUNT(order_id) FROM orders GROUP BY status ORDER BY 1",
    ),
    ("SELECT SUM(quantity) FROM order_items", "SELECT SUM(quantity * 1) FROM order_items"),
    ("SELECT name FROM authors WHERE 1 = 0", "SELECT title, genre FROM books WHERE price < 0"),
    (
        "SELECT genre, MIN(price), MAX(price) FROM books GROUP BY genre",
        "SELECT genre, MAX(price), MIN(price) FROM books GROUP BY genre",
    ),
    (
        "SELECT o.status, SUM(oi.quantity) FROM orders o JOIN order_items oi ON oi.order_id = o.order_id GROUP BY "
        "o.status",
        "SELECT status, (SELECT SUM(quantity) FROM order_items oi WHERE oi.order_id IN (SELECT order_id FROM orders "
        "o2 WHERE o2.status = o.status)) FROM orders o GROUP BY status",
    ),
]

DIFFERENT = [
    ("SELECT genre FROM books", "SELECT DISTINCT genre FROM books"),
    ("SELECT title FROM books ORDER BY price", "SELECT title FROM books ORDER BY price DESC"),
    ("SELECT COUNT(*) FROM books WHERE price > 20", "SELECT COUNT(*) FROM books WHERE price >= 21"),
    ("SELECT name FROM authors", "SELECT name, country FROM authors"),
    ("SELECT AVG(price) FROM books", "SELECT ROUND(AVG(price), 2) FROM books"),
    ("SELECT COUNT(*) FROM reviews", "SELECT COUNT(review_text) FROM reviews"),
    ("SELECT country FROM authors", "SELECT COALESCE(country, 'none') FROM authors"),
    (
        "SELECT title FROM books ORDER BY price DESC, book_id LIMIT 3",
        "SELECT title FROM books ORDER BY price DESC, book_id LIMIT 4",
    ),
    ("SELECT name FROM customers WHERE country = 'Spain'", "SELECT name FROM customers WHERE country = 'Sweden'"),
    (
        "SELECT country FROM customers UNION SELECT country FROM authors",
        "SELECT country FROM customers UNION ALL SELECT country FROM authors",
    ),
    ("SELECT SUM(quantity) FROM order_items", "SELECT COUNT(quantity) FROM order_items"),
    ("SELECT MAX(birth_year) FROM authors", "SELECT MIN(birth_year) FROM authors"),
    (
        "SELECT genre, COUNT(*) FROM books GROUP BY genre",
        "SELECT genre, COUNT(DISTINCT author_id) FROM books GROUP BY genre",
    ),
    ("SELECT name FROM authors WHERE author_id < 5", "SELECT name FROM authors WHERE author_id <= 5"),
    ("SELECT name FROM authors", "SELECT nonexistent FROM authors"),
    ("SELECT name FROM authors", "DELETE FROM authors"),
]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.services),
        pytest.param("mariadb", marks=pytest.mark.services),
    ]
)
def engine(request):
    if request.param == "sqlite":
        urls = [f"sqlite:///{p}" for p in request.getfixturevalue("sqlite_bookshop")]
    else:
        urls = request.getfixturevalue(f"{request.param}_bookshop").urls
    client = DatabaseResource(databases={"bookshop": urls}, timeout_s=2).build_client()
    yield client
    client.close()


def test_labelled_pairs(engine):
    pairs = [(gold, pred, True) for gold, pred in EQUIVALENT] + [(gold, pred, False) for gold, pred in DIFFERENT]
    df = frame(
        [pred for _, pred, _ in pairs], column="sql", gold_sql=[g for g, _, _ in pairs], db_id=["bookshop"] * len(pairs)
    )
    result = SqlExecutionMatchEvaluator().run(df, database=engine).kept
    wrong = [
        (gold, pred, reason)
        for (gold, pred, label), verdict, reason in zip(
            pairs, result["execution_match"], result["execution_match_reason"], strict=True
        )
        if verdict != label
    ]
    assert wrong == []
