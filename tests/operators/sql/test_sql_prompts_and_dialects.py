"""Training prompts in each format, and gold SQL translated from SQLite into PostgreSQL and MariaDB that gives the
same results there (the same bookshop data loaded into each engine)."""

import pytest

from operators.sql.execution import compare
from operators.sql.refine.sql_dialect_translate import SqlDialectTranslateRefiner
from operators.sql.refine.sql_training_prompt import SqlTrainingPromptRefiner
from resources.database.resource import DatabaseResource
from tests.support import frame

SCHEMA = "CREATE TABLE books (\n  book_id INTEGER NOT NULL,\n  title TEXT\n);"


def _rows(evidence=("", "titles are unique")):
    return frame(
        ["How many books are there?", "List the titles."],
        column="question",
        evidence=list(evidence),
        schema=[SCHEMA, SCHEMA],
        dialect=["sqlite", "postgres"],
    )


def test_omnisql_format():
    prompts = SqlTrainingPromptRefiner().run(_rows()).kept["prompt"].to_list()
    assert "Database engine:\nSQLite" in prompts[0] and "Database engine:\nPostgreSQL" in prompts[1]
    assert f"Database schema:\n{SCHEMA}" in prompts[0]
    assert "Question:\nHow many books are there?\n" in prompts[0]
    assert "Question:\ntitles are unique\nList the titles." in prompts[1]
    assert prompts[0].rstrip().endswith("```sql\n-- your query\n```")


def test_code_representation_and_basic_formats():
    code = SqlTrainingPromptRefiner(prompt_format="code_representation").run(_rows()).kept["prompt"].to_list()
    assert code[0].startswith(SCHEMA) and code[0].endswith("-- How many books are there?\nSELECT")
    assert "-- External knowledge: titles are unique\n" in code[1] and "Using valid PostgreSQL" in code[1]
    basic = SqlTrainingPromptRefiner(prompt_format="basic").run(_rows()).kept["prompt"].to_list()
    assert basic[0] == f"### Database schema (SQLite)\n{SCHEMA}\n\n### Question\nHow many books are there?\n\n### SQL\n"
    assert "### Evidence\ntitles are unique\n" in basic[1]


def test_rows_without_a_question_are_set_aside():
    rows = frame(
        ["", "Name a book."], column="question", evidence=["", ""], schema=[SCHEMA] * 2, dialect=["sqlite"] * 2
    )
    result = SqlTrainingPromptRefiner().run(rows)
    assert result.kept["_row_id"].to_list() == ["r1"]
    assert result.rejected["_reject_rule"].to_list() == ["sql_prompt_incomplete"]


GOLD = [
    "SELECT genre, COUNT(*) FROM books GROUP BY genre HAVING COUNT(*) > 3",
    "SELECT IIF(price > 30, 'expensive', 'cheap') AS band, COUNT(*) FROM books GROUP BY band",
    "SELECT IFNULL(city, 'unknown'), COUNT(*) FROM customers GROUP BY 1",
    "SELECT group_concat(name, ', ') FROM authors WHERE author_id < 3",
    "SELECT CAST(strftime('%Y', ordered_on) AS INTEGER) AS y, COUNT(*) FROM orders GROUP BY y ORDER BY y",
    "SELECT title, price FROM books ORDER BY price DESC, book_id LIMIT 5",
    "SELECT SUBSTR(name, 1, 3), LENGTH(name) FROM authors WHERE author_id = 1",
    "SELECT c.country, SUM(oi.quantity * oi.unit_price) FROM customers c JOIN orders o ON o.customer_id = "
    "c.customer_id JOIN order_items oi ON oi.order_id = o.order_id GROUP BY c.country",
]


def test_untranslatable_queries_keep_their_row_with_the_reason():
    rows = frame(["SELECT 1", "SELECT * FROM", None], column="sql", dialect=["sqlite"] * 3)
    result = SqlDialectTranslateRefiner(target="postgres").run(rows).kept
    assert result["sql_translated"].to_list()[0] == "SELECT 1"
    assert result["sql_translated"].to_list()[1:] == [None, None]
    assert result["sql_translation_error"][1] and result["sql_translation_error"][2] == "no SQL"


@pytest.mark.services
@pytest.mark.parametrize("server", ["postgres_bookshop", "mariadb_bookshop"])
def test_translated_gold_gives_the_same_results_on_the_other_engine(request, server, sqlite_bookshop):
    scratch = request.getfixturevalue(server)
    source = DatabaseResource(databases={"b": [f"sqlite:///{p}" for p in sqlite_bookshop]}).build_client()
    target = DatabaseResource(databases={"b": scratch.urls}).build_client()
    rows = frame(GOLD, column="sql", dialect=["sqlite"] * len(GOLD))
    translated = SqlDialectTranslateRefiner(target=scratch.dialect).run(rows).kept
    assert translated["sql_translation_error"].null_count() == len(GOLD)
    for gold, sql in zip(GOLD, translated["sql_translated"], strict=True):
        for variant in range(2):
            expected = source.execute("b", gold, variant=variant)
            actual = target.execute("b", sql, variant=variant)
            assert expected.ok and actual.ok, (sql, actual.reason)
            assert compare(expected, actual, ordered="ORDER BY" in gold) is None, (gold, sql)
    target.close()
