"""The statement guard on its own: every refusal class in each dialect, and the query forms it must let through."""

import pytest

from operators.database.protocol import Cause
from resources.database.guard import check

DIALECTS = ("sqlite", "postgres", "mysql")

REFUSED_EVERYWHERE = {
    "dml insert": "INSERT INTO books (book_id, title) VALUES (1, 'x')",
    "dml update": "UPDATE books SET price = 0",
    "dml delete": "DELETE FROM books",
    "ddl create": "CREATE TABLE stolen AS SELECT * FROM customers",
    "ddl drop": "DROP TABLE books",
    "ddl alter": "ALTER TABLE books ADD COLUMN x INT",
    "two statements": "SELECT 1; SELECT 2",
    "query then write": "SELECT 1; DELETE FROM books",
    "cte hiding a delete": "WITH d AS (SELECT 1) DELETE FROM books",
    "transaction control": "COMMIT",
    "locking clause": "SELECT * FROM books FOR UPDATE",
    "user function": "SELECT my_function(book_id) FROM books",
    "recursive cte": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
    "empty": "   ",
}

REFUSED_IN = {
    "sqlite": {
        "attach": "ATTACH DATABASE '/tmp/evil.db' AS evil",
        "detach": "DETACH DATABASE main",
        "vacuum into": "VACUUM INTO '/tmp/copy.db'",
        "pragma write": "PRAGMA writable_schema = 1",
        "load extension": "SELECT load_extension('/tmp/evil.so')",
        "read file": "SELECT readfile('/etc/passwd')",
    },
    "postgres": {
        "copy to program": "COPY books TO PROGRAM 'id > /tmp/pwned'",
        "copy from file": "COPY books FROM '/etc/passwd'",
        "alter system": "ALTER SYSTEM SET work_mem = '1GB'",
        "set": "SET statement_timeout = 0",
        "set_config": "SELECT set_config('statement_timeout', '0', false)",
        "sleep": "SELECT pg_sleep(10)",
        "read file": "SELECT pg_read_file('/etc/passwd')",
        "list dir": "SELECT * FROM pg_ls_dir('.')",
        "lo_export": "SELECT lo_export(1, '/tmp/x')",
        "select into table": "SELECT * INTO stolen FROM customers",
        "data-modifying cte": "WITH d AS (DELETE FROM books RETURNING *) SELECT * FROM d",
        "nextval": "SELECT nextval('books_book_id_seq')",
        "statement in text": "SELECT query_to_xml('DELETE FROM books', true, true, '')",
        "dblink": "SELECT * FROM dblink('dbname=x', 'select 1') AS t(a int)",
        "terminate": "SELECT pg_terminate_backend(1)",
        "nested comment": "SELECT 1 /* /* */ , pg_sleep(5) */",
    },
    "mysql": {
        "into outfile": "SELECT * FROM customers INTO OUTFILE '/tmp/customers.txt'",
        "into dumpfile": "SELECT name INTO DUMPFILE '/tmp/x' FROM customers LIMIT 1",
        "load file": "SELECT LOAD_FILE('/etc/passwd')",
        "set global": "SET GLOBAL max_connections = 1",
        "sleep": "SELECT SLEEP(10)",
        "benchmark": "SELECT BENCHMARK(100000000, MD5('x'))",
        "get_lock": "SELECT GET_LOCK('x', 10)",
        "executable comment": "SELECT 1 /*!50000 , LOAD_FILE('/etc/passwd') */",
        "mariadb executable comment": "SELECT 1 /*M! , SLEEP(10) */",
        "variable assignment": "SELECT @a := 1",
        "select into variable": "SELECT name INTO @n FROM customers LIMIT 1",
        "lock in share mode": "SELECT * FROM books LOCK IN SHARE MODE",
        "load data": "LOAD DATA INFILE '/etc/passwd' INTO TABLE books",
    },
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", sorted(REFUSED_EVERYWHERE))
def test_refused_in_every_dialect(dialect, name):
    verdict = check(REFUSED_EVERYWHERE[name], dialect)
    assert not verdict.allowed
    assert verdict.reason


@pytest.mark.parametrize(("dialect", "name"), [(d, n) for d, cases in REFUSED_IN.items() for n in cases])
def test_refused_in_dialect(dialect, name):
    verdict = check(REFUSED_IN[dialect][name], dialect)
    assert not verdict.allowed, verdict
    assert verdict.cause is Cause.NOT_READ_ONLY, verdict


def test_reasons_say_what_was_refused():
    assert check("WITH d AS (SELECT 1) DELETE FROM books", "sqlite").reason == "DELETE is not a query"
    assert check("WITH d AS (DELETE FROM b RETURNING *) SELECT * FROM d", "postgres").reason == "it contains DELETE"
    assert check("SELECT pg_sleep(3)", "postgres").reason == "pg_sleep() sleeps"
    assert "2 statements" in check("SELECT 1; SELECT 2", "mysql").reason
    assert "not a known side-effect-free built-in" in check("SELECT f(1)", "sqlite").reason


def test_syntax_errors_are_told_apart_from_unsafe_statements():
    for sql in ("SELEC name FROM books", "SELECT * FROM", "SELECT (1"):
        verdict = check(sql, "sqlite")
        assert (verdict.allowed, verdict.cause) == (False, Cause.SYNTAX_ERROR), sql


def test_recursive_ctes_when_allowed():
    sql = REFUSED_EVERYWHERE["recursive cte"]
    assert check(sql, "sqlite", allow_recursive=True).allowed


ALLOWED = [
    "SELECT title, price FROM books WHERE price > 10 ORDER BY price DESC LIMIT 5",
    "SELECT genre, COUNT(*), AVG(price), MIN(pages), MAX(pages), SUM(pages) FROM books GROUP BY genre "
    "HAVING COUNT(*) > 2",
    "SELECT a.name FROM authors AS a JOIN books AS b ON a.author_id = b.author_id LEFT JOIN reviews r "
    "ON r.book_id = b.book_id WHERE r.rating IS NULL",
    "SELECT name FROM customers WHERE customer_id IN (SELECT customer_id FROM orders WHERE status = 'pending')",
    "SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)",
    "SELECT country FROM customers UNION SELECT country FROM authors",
    "SELECT country FROM customers INTERSECT SELECT country FROM authors",
    "SELECT country FROM customers EXCEPT SELECT country FROM authors",
    "WITH top AS (SELECT book_id, SUM(quantity) AS n FROM order_items GROUP BY book_id) SELECT * FROM top",
    "SELECT title, RANK() OVER (PARTITION BY genre ORDER BY price DESC) FROM books",
    "SELECT CASE WHEN price > 20 THEN 'high' ELSE 'low' END, COALESCE(city, 'unknown') FROM books, customers",
    "SELECT UPPER(name), LOWER(country), LENGTH(name), SUBSTR(name, 1, 3), ROUND(AVG(price), 2) FROM books "
    "JOIN customers ON 1 = 1 GROUP BY name, country",
    "SELECT name FROM authors WHERE name LIKE 'A%' AND birth_year BETWEEN 1950 AND 1970",
    "SELECT DISTINCT genre FROM books",
    "SELECT COUNT(DISTINCT genre) FROM books",
    "SELECT CAST(price AS INTEGER) FROM books",
    "SELECT * FROM (SELECT genre, COUNT(*) AS n FROM books GROUP BY genre) AS t WHERE n > 3",
]

DIALECT_ALLOWED = {
    "sqlite": [
        "SELECT strftime('%Y', ordered_on), COUNT(*) FROM orders GROUP BY 1",
        "SELECT julianday(ordered_on) - julianday(joined_on) FROM orders JOIN customers USING (customer_id)",
        "SELECT printf('%.2f', price), IIF(price > 10, 1, 0), IFNULL(city, '-'), typeof(price) FROM books, customers",
        "SELECT group_concat(title, ', ') FROM books",
        "SELECT date('now'), datetime(ordered_on), total(quantity) FROM orders, order_items",
    ],
    "postgres": [
        "SELECT EXTRACT(YEAR FROM ordered_on), COUNT(*) FROM orders GROUP BY 1",
        "SELECT to_char(ordered_on, 'YYYY-MM'), date_trunc('month', ordered_on) FROM orders",
        "SELECT string_agg(title, ', ' ORDER BY title) FROM books",
        "SELECT price::numeric(10, 2), title || ' (' || genre || ')' FROM books",
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY price) FROM books",
        "SELECT age(ordered_on), split_part(name, ' ', 1), strpos(name, 'a') FROM orders, customers",
        "SELECT n FROM generate_series(1, 3) AS n",
        "SELECT count(*) FILTER (WHERE price > 10) FROM books",
    ],
    "mysql": [
        "SELECT YEAR(ordered_on), COUNT(*) FROM orders GROUP BY YEAR(ordered_on)",
        "SELECT DATE_FORMAT(ordered_on, '%Y-%m'), DATEDIFF(ordered_on, '2020-01-01') FROM orders",
        "SELECT GROUP_CONCAT(title SEPARATOR ', ') FROM books",
        "SELECT IF(price > 10, 'high', 'low'), IFNULL(city, '-'), CONCAT(name, '!') FROM books, customers",
        "SELECT `name` FROM `customers` WHERE `country` = 'Spain'",
        "SELECT TIMESTAMPDIFF(DAY, joined_on, NOW()) FROM customers",
    ],
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", ALLOWED)
def test_read_only_queries_pass(dialect, sql):
    verdict = check(sql, dialect)
    assert verdict.allowed, verdict


@pytest.mark.parametrize(("dialect", "sql"), [(d, s) for d, cases in DIALECT_ALLOWED.items() for s in cases])
def test_dialect_queries_pass(dialect, sql):
    verdict = check(sql, dialect)
    assert verdict.allowed, verdict
