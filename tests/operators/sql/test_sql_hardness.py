"""sql_hardness: Spider's buckets on queries from Spider's own dev set (concert_singer) with their published
hardness, and rows that do not parse set aside with a reason."""

from operators.sql.components import components
from operators.sql.evaluate.sql_hardness import SqlHardnessEvaluator
from tests.support import frame

SPIDER = {
    "SELECT count(*) FROM singer": "easy",
    "SELECT name, country, age FROM singer ORDER BY age DESC": "medium",
    "SELECT avg(age), min(age), max(age) FROM singer WHERE country = 'France'": "medium",
    "SELECT T2.name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id "
    "GROUP BY T1.stadium_id": "medium",
    "SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)": "hard",
    "SELECT country FROM singer WHERE age > 40 INTERSECT SELECT country FROM singer WHERE age < 30": "hard",
    "SELECT song_name FROM singer WHERE age > (SELECT avg(age) FROM singer)": "hard",
    "SELECT T2.name FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id "
    "JOIN concert AS T3 ON T1.concert_id = T3.concert_id WHERE T3.year = 2014": "hard",
    "SELECT T2.name, T2.capacity FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id "
    "WHERE T1.year >= 2014 GROUP BY T2.stadium_id ORDER BY count(*) DESC LIMIT 1": "extra",
}


def test_spider_buckets():
    df = frame(list(SPIDER), column="sql")
    result = SqlHardnessEvaluator().run(df)
    assert result.kept["hardness"].to_list() == list(SPIDER.values())
    assert result.rejected.height == 0


def test_component_counts():
    counted = components(
        "SELECT a, b FROM t JOIN u ON t.id = u.id WHERE (a LIKE 'x%' OR b = 1) AND c IN (SELECT c FROM v) "
        "GROUP BY a, b HAVING COUNT(*) > 1 ORDER BY MAX(d) LIMIT 3"
    )
    # WHERE, GROUP BY, ORDER BY, LIMIT, one join, one OR, one LIKE; one nested query; aggregates > 1, two columns,
    # more than one WHERE condition, two GROUP BY columns.
    assert (counted.component1, counted.component2, counted.others) == (7, 1, 4)
    assert counted.hardness == "extra"


def test_unparseable_rows_are_set_aside():
    result = SqlHardnessEvaluator(dialect="sqlite").run(frame(["SELECT 1", "SELEC oops", None], column="sql"))
    assert result.kept["_row_id"].to_list() == ["r0"]
    assert result.rejected["_reject_rule"].to_list() == ["sql_unparseable", "sql_unparseable"]
