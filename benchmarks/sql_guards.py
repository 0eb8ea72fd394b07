"""What the database engine's guards cost: executions per second on SQLite, PostgreSQL and MariaDB with the guards
on (statement guard, read-only session, time limit, row cap) against the raw driver running the same queries.

The workload is 24 Spider-like queries (filters, joins, grouping, sub-queries, set operations, ordering) on the
bundled bookshop sample, loaded into a SQLite file and into scratch PostgreSQL and MariaDB databases that the script
creates and drops (read through a SELECT-only role, as the docs recommend). Modes, interleaved pass by pass:

- ``raw``: the driver alone (sqlite3 on the file; psycopg in autocommit; PyMySQL's buffered cursor), execute and
  fetch all rows;
- ``guarded``: ``DatabaseClient.execute`` as operators call it, with the statement guard's verdict cache emptied
  before every query, so each execution parses its SQL (the cost of a query seen for the first time);
- ``guarded, cached verdicts``: the same with the guard's per-text cache warm, as when a query runs on several
  variants of a database or a gold query is compared with many predictions.

Reports executions per second of wall time, process CPU seconds (the driver side only: the servers' CPU is not
counted) and the ratio of time per execution against ``raw`` (target: at most 1.5x).

    .venv/bin/python benchmarks/sql_guards.py            # 30 passes over the 24 queries per mode and engine
    .venv/bin/python benchmarks/sql_guards.py --passes 5  # a quick check
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import describe
from resources.database import guard, sample
from resources.database.client import DatabaseClient

WORK = Path(__file__).parent / ".work" / "sql_guards"
RESULTS = Path(__file__).parent / "results"

QUERIES = [
    "SELECT COUNT(*) FROM books",
    "SELECT title, price FROM books WHERE price > 40 ORDER BY price DESC LIMIT 10",
    "SELECT genre, COUNT(*), AVG(price) FROM books GROUP BY genre ORDER BY COUNT(*) DESC",
    "SELECT name FROM authors WHERE country = 'Japan'",
    "SELECT a.name, COUNT(*) FROM authors a JOIN books b ON a.author_id = b.author_id GROUP BY a.name",
    "SELECT c.country, COUNT(DISTINCT o.order_id) FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
    "GROUP BY c.country",
    "SELECT status, COUNT(*) FROM orders GROUP BY status HAVING COUNT(*) > 10",
    "SELECT title FROM books WHERE book_id IN (SELECT book_id FROM reviews WHERE rating = 5)",
    "SELECT name FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)",
    "SELECT country FROM customers INTERSECT SELECT country FROM authors",
    "SELECT country FROM customers UNION SELECT country FROM authors",
    "SELECT b.title, SUM(oi.quantity) AS sold FROM books b JOIN order_items oi ON oi.book_id = b.book_id "
    "GROUP BY b.title ORDER BY sold DESC LIMIT 5",
    "SELECT AVG(rating) FROM reviews WHERE review_text IS NOT NULL",
    "SELECT genre, MAX(price) - MIN(price) FROM books GROUP BY genre",
    "SELECT name FROM authors WHERE birth_year BETWEEN 1950 AND 1970 ORDER BY birth_year",
    "SELECT COUNT(*) FROM books WHERE title LIKE '%River%'",
    "SELECT c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id "
    "AND o.status = 'cancelled')",
    "SELECT genre, CASE WHEN AVG(price) > 30 THEN 'high' ELSE 'low' END FROM books GROUP BY genre",
    "SELECT o.order_id, SUM(oi.quantity * oi.unit_price) FROM orders o JOIN order_items oi ON oi.order_id = "
    "o.order_id GROUP BY o.order_id ORDER BY 2 DESC LIMIT 3",
    "SELECT * FROM books WHERE pages > 800",
    "SELECT COUNT(*) FROM reviews r JOIN books b ON r.book_id = b.book_id WHERE b.genre = 'Poetry'",
    "SELECT city, COUNT(*) FROM customers WHERE city IS NOT NULL GROUP BY city ORDER BY 2 DESC, 1",
    "SELECT title FROM books ORDER BY published_year, title LIMIT 20",
    "SELECT author_id FROM books GROUP BY author_id HAVING AVG(price) > (SELECT AVG(price) FROM books)",
]


@contextmanager
def sqlite_database() -> Iterator[tuple[str, Callable[[], Callable[[str], list]]]]:
    path = sample.write_sqlite(WORK / "bookshop.sqlite", 1)

    def raw() -> Callable[[str], list]:
        connection = sqlite3.connect(path)
        return lambda sql: connection.execute(sql).fetchall()

    yield f"sqlite:///{path}", raw


@contextmanager
def postgres_database(admin_url: str) -> Iterator[tuple[str, Callable[[], Callable[[str], list]]]]:
    import psycopg

    token = uuid.uuid4().hex[:8]
    role, database = f"bench_reader_{token}", f"bench_sql_{token}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"CREATE DATABASE {database}")
        try:
            with psycopg.connect(admin_url.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as connection:
                sample.load(connection, "postgres", 1)
                connection.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
            host = admin_url.split("@", 1)[1].rsplit("/", 1)[0]
            url = f"postgresql://{role}@{host}/{database}"

            def raw() -> Callable[[str], list]:
                connection = psycopg.connect(url, autocommit=True)
                return lambda sql: connection.execute(sql).fetchall()

            yield url, raw
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


@contextmanager
def mariadb_database(host: str, port: int, user: str) -> Iterator[tuple[str, Callable[[], Callable[[str], list]]]]:
    import pymysql

    token = uuid.uuid4().hex[:8]
    reader, database, password = f"bench_{token}", f"bench_sql_{token}", uuid.uuid4().hex
    admin = pymysql.connect(host=host, port=port, user=user, autocommit=True)
    cursor = admin.cursor()
    cursor.execute(f"CREATE USER '{reader}'@'%' IDENTIFIED BY '{password}'")
    cursor.execute(f"CREATE DATABASE {database}")
    try:
        with pymysql.connect(host=host, port=port, user=user, database=database, autocommit=True) as connection:
            sample.load(connection, "mysql", 1)
        cursor.execute(f"GRANT SELECT ON {database}.* TO '{reader}'@'%'")

        def raw() -> Callable[[str], list]:
            connection = pymysql.connect(
                host=host, port=port, user=reader, password=password, database=database, autocommit=True
            )

            def run(sql: str) -> list:
                with connection.cursor() as raw_cursor:
                    raw_cursor.execute(sql)
                    return list(raw_cursor.fetchall())

            return run

        yield f"mysql://{reader}:{password}@{host}:{port}/{database}", raw
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        cursor.execute(f"DROP USER IF EXISTS '{reader}'@'%'")
        admin.close()


def measure(run: Callable[[str], object], passes: int, before_each: Callable[[], None] | None = None) -> dict:
    """Seconds (wall, CPU) of each pass over the queries."""
    walls, cpus = [], []
    for _ in range(passes):
        wall, cpu = time.perf_counter(), time.process_time()
        for sql in QUERIES:
            if before_each is not None:
                before_each()
            run(sql)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": walls, "cpu_s": cpus}


def bench_engine(name: str, url: str, raw_factory: Callable, passes: int) -> dict:
    client = DatabaseClient({"b": url}, timeout_s=5)
    dialect = client.dialect("b")
    guarded = lambda sql: client.execute("b", sql)  # noqa: E731
    raw = raw_factory()
    for sql in QUERIES:  # the same answers, and warm connections and server caches for both
        result = guarded(sql)
        assert result.ok and result.row_count == len(raw(sql)), (sql, result.reason)
    modes = {"raw": [], "guarded": [], "guarded, cached verdicts": []}
    runs = {mode: {"wall_s": [], "cpu_s": []} for mode in modes}

    def warm() -> None:
        for sql in QUERIES:
            guard.check(sql, dialect)

    for _ in range(passes):  # interleaved, so that a busy spell on the shared machine hits every mode
        for mode, (run, before, setup) in {
            "raw": (raw, None, None),
            "guarded": (guarded, guard._check.cache_clear, None),
            "guarded, cached verdicts": (guarded, None, warm),
        }.items():
            if setup is not None:
                setup()
            measured = measure(run, 1, before)
            runs[mode]["wall_s"] += measured["wall_s"]
            runs[mode]["cpu_s"] += measured["cpu_s"]
    guard._check.cache_clear()
    parse = measure(lambda sql: guard.check(sql, dialect), passes, guard._check.cache_clear)
    client.close()
    summary = {}
    for mode, measured in runs.items():
        wall = statistics.median(measured["wall_s"])
        summary[mode] = {
            "executions_per_s": len(QUERIES) / wall,
            "ms_per_execution": wall / len(QUERIES) * 1000,
            "cpu_ms_per_execution": statistics.median(measured["cpu_s"]) / len(QUERIES) * 1000,
        }
    raw_ms = summary["raw"]["ms_per_execution"]
    for mode in summary:
        summary[mode]["ratio_to_raw"] = summary[mode]["ms_per_execution"] / raw_ms
    summary["guard_parse_ms_per_query"] = statistics.median(parse["wall_s"]) / len(QUERIES) * 1000
    return {"engine": name, "summary": summary, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=30, help="passes over the queries per mode")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin URL")
    parser.add_argument("--mariadb", default="root@127.0.0.1:3306", help="admin user@host:port (no password)")
    arguments = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    user, _, address = arguments.mariadb.partition("@")
    host, _, port = address.partition(":")
    engines = {
        "SQLite": lambda: sqlite_database(),
        "PostgreSQL": lambda: postgres_database(arguments.postgres),
        "MariaDB": lambda: mariadb_database(host, int(port or 3306), user),
    }
    results, skipped = [], {}
    for name, database in engines.items():
        try:
            with database() as (url, raw_factory):
                results.append(bench_engine(name, url, raw_factory, arguments.passes))
        except Exception as error:  # an engine that is not there is reported, the others still run
            if results and results[-1]["engine"] == name:
                raise
            skipped[name] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        print(name, "done" if name not in skipped else f"skipped ({skipped[name]})", flush=True)
    machine = describe("sqlglot", "psycopg", "PyMySQL")
    write(results, skipped, machine, arguments.passes)


def write(results: list[dict], skipped: dict[str, str], machine: dict, passes: int) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sql_guards.json").write_text(
        json.dumps(
            {"passes": passes, "queries": QUERIES, "results": results, "skipped": skipped, "machine": machine}, indent=2
        )
        + "\n"
    )
    lines = [
        "# SQL guards benchmark",
        "",
        f"{len(QUERIES)} Spider-like queries on the bookshop sample (seed 1), {passes} interleaved passes per mode; "
        "medians. Guarded = `DatabaseClient.execute`: statement guard (sqlglot parse and tree check), read-only "
        "session, time limit, row cap. CPU = this process only (the servers' CPU is not counted).",
        "",
        "| engine | mode | executions/s | ms/execution | CPU ms/execution | time vs raw |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        for mode, figures in result["summary"].items():
            if mode == "guard_parse_ms_per_query":
                continue
            lines.append(
                f"| {result['engine']} | {mode} | {figures['executions_per_s']:,.0f} | "
                f"{figures['ms_per_execution']:.3f} | {figures['cpu_ms_per_execution']:.3f} | "
                f"{figures['ratio_to_raw']:.2f}x |"
            )
    lines += ["", "Target: guards cost at most 1.5x the raw driver's time per execution.", ""]
    for result in results:
        summary = result["summary"]
        lines.append(
            f"- {result['engine']}: guarded **{summary['guarded']['ratio_to_raw']:.2f}x** "
            f"({'met' if summary['guarded']['ratio_to_raw'] <= 1.5 else 'MISS'}), with cached verdicts "
            f"**{summary['guarded, cached verdicts']['ratio_to_raw']:.2f}x** "
            f"({'met' if summary['guarded, cached verdicts']['ratio_to_raw'] <= 1.5 else 'MISS'}); the guard's parse "
            f"alone: {summary['guard_parse_ms_per_query']:.3f} ms per query"
        )
    for name, reason in skipped.items():
        lines.append(f"- {name}: skipped ({reason})")
    lines += [
        "",
        f"Python {machine['python']}, sqlglot {machine['sqlglot']}, psycopg {machine['psycopg']}, PyMySQL "
        f"{machine['PyMySQL']}; {machine['nproc']} CPUs ({machine['cpu_model']}), load "
        f"{', '.join(f'{x:.2f}' for x in machine['load_average_1_5_15_min'])}; {machine['date']}.",
        "",
        f"Re-run: `.venv/bin/python benchmarks/sql_guards.py --passes {passes}`",
    ]
    (RESULTS / "sql_guards.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
