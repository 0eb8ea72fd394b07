"""The bundled sample database: a small bookshop, written for this project (same licence as the project).

Six tables (authors, books, customers, orders, order_items, reviews), a few hundred rows each, generated from a
seeded random stream, so the data is the same on every machine and nothing is downloaded or committed as a binary.
Two seeds give two *variants*: one schema, different contents, as in Zhong et al. 2020's distilled test suites,
so that an execution match must hold on both. The same rows load into PostgreSQL or MariaDB (``load``), which is how
the ``text2sql`` pipeline and the tests run against those engines:

    python -m resources.database.sample sqlite:///bookshop.db
    python -m resources.database.sample postgresql://me@127.0.0.1:5432/bookshop --seed 2
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

VERSION = 1
"""Bump when the generated data changes: the file names carry it, so old copies are not reused."""

DB_ID = "bookshop"
SEEDS = (1, 2)
"""The seeds of the variants the default configuration uses."""

_TYPES = {
    "sqlite": {"int": "INTEGER", "text": "TEXT", "real": "REAL", "date": "DATE"},
    "postgres": {"int": "INTEGER", "text": "TEXT", "real": "DOUBLE PRECISION", "date": "DATE"},
    "mysql": {"int": "INT", "text": "VARCHAR(200)", "real": "DOUBLE", "date": "DATE"},
}

TABLES: dict[str, list[tuple[str, str, str]]] = {
    "authors": [
        ("author_id", "int", "PRIMARY KEY"),
        ("name", "text", "NOT NULL"),
        ("country", "text", ""),
        ("birth_year", "int", ""),
    ],
    "books": [
        ("book_id", "int", "PRIMARY KEY"),
        ("title", "text", "NOT NULL"),
        ("author_id", "int", "NOT NULL REFERENCES authors (author_id)"),
        ("genre", "text", "NOT NULL"),
        ("published_year", "int", ""),
        ("price", "real", "NOT NULL"),
        ("pages", "int", ""),
    ],
    "customers": [
        ("customer_id", "int", "PRIMARY KEY"),
        ("name", "text", "NOT NULL"),
        ("city", "text", ""),
        ("country", "text", "NOT NULL"),
        ("joined_on", "date", "NOT NULL"),
    ],
    "orders": [
        ("order_id", "int", "PRIMARY KEY"),
        ("customer_id", "int", "NOT NULL REFERENCES customers (customer_id)"),
        ("ordered_on", "date", "NOT NULL"),
        ("status", "text", "NOT NULL"),
    ],
    "order_items": [
        ("order_id", "int", "NOT NULL REFERENCES orders (order_id)"),
        ("book_id", "int", "NOT NULL REFERENCES books (book_id)"),
        ("quantity", "int", "NOT NULL"),
        ("unit_price", "real", "NOT NULL"),
    ],
    "reviews": [
        ("review_id", "int", "PRIMARY KEY"),
        ("book_id", "int", "NOT NULL REFERENCES books (book_id)"),
        ("customer_id", "int", "NOT NULL REFERENCES customers (customer_id)"),
        ("rating", "int", "NOT NULL"),
        ("review_text", "text", ""),
    ],
}
_COMPOSITE_KEYS = {"order_items": ("order_id", "book_id")}

_FIRST = [
    "Ada",
    "Bram",
    "Cleo",
    "Dario",
    "Elin",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kaia",
    "Luis",
    "Mira",
    "Nils",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
]
_LAST = [
    "Abara",
    "Berg",
    "Costa",
    "Dahl",
    "Ekwe",
    "Fontaine",
    "Garza",
    "Holm",
    "Ito",
    "Jansen",
    "Kowal",
    "Lund",
    "Moreau",
    "Novak",
    "Okafor",
    "Petit",
]
_COUNTRIES = ["France", "Germany", "Japan", "Nigeria", "Brazil", "Canada", "Spain", "Sweden", "India", "Kenya"]
_CITIES = {
    "France": ["Paris", "Lyon"],
    "Germany": ["Berlin", "Hamburg"],
    "Japan": ["Tokyo", "Osaka"],
    "Nigeria": ["Lagos", "Abuja"],
    "Brazil": ["Recife", "Curitiba"],
    "Canada": ["Toronto", "Halifax"],
    "Spain": ["Madrid", "Seville"],
    "Sweden": ["Malmo", "Uppsala"],
    "India": ["Pune", "Chennai"],
    "Kenya": ["Nairobi", "Mombasa"],
}
_GENRES = ["Fantasy", "Mystery", "Science Fiction", "History", "Poetry", "Romance", "Biography", "Travel"]
_ADJECTIVES = [
    "Silent",
    "Hidden",
    "Last",
    "Golden",
    "Broken",
    "Distant",
    "Quiet",
    "Burning",
    "Northern",
    "Paper",
    "Glass",
    "Winter",
]
_NOUNS = [
    "River",
    "Garden",
    "Archive",
    "Lantern",
    "Harbor",
    "Orchard",
    "Compass",
    "Mirror",
    "Tower",
    "Island",
    "Letter",
    "Forest",
]
_STATUSES = ["delivered", "delivered", "delivered", "shipped", "pending", "cancelled"]
_REVIEWS = ["Loved it", "Too long", "A classic", "Would not recommend", "Beautiful prose", "Good value"]


def rows(seed: int) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of every table for one variant (deterministic in ``seed``)."""
    rng = random.Random(seed)
    n_authors, n_books, n_customers, n_orders = 30 + seed % 7, 120 + seed % 11, 100 + seed % 13, 260 + seed % 17

    def person() -> str:
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"

    authors = [
        (i, person(), None if rng.random() < 0.1 else rng.choice(_COUNTRIES), rng.randint(1920, 1995))
        for i in range(1, n_authors + 1)
    ]
    books = [
        (
            i,
            f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
            rng.randint(1, n_authors),
            rng.choice(_GENRES),
            None if rng.random() < 0.05 else rng.randint(1950, 2024),
            round(rng.uniform(4, 60), 2),
            rng.randint(80, 900),
        )
        for i in range(1, n_books + 1)
    ]
    start = date(2019, 1, 1)
    customers = []
    for i in range(1, n_customers + 1):
        country = rng.choice(_COUNTRIES)
        city = None if rng.random() < 0.08 else rng.choice(_CITIES[country])
        customers.append((i, person(), city, country, (start + timedelta(days=rng.randint(0, 1500))).isoformat()))
    orders = [
        (
            i,
            rng.randint(1, n_customers),
            (start + timedelta(days=rng.randint(30, 1800))).isoformat(),
            rng.choice(_STATUSES),
        )
        for i in range(1, n_orders + 1)
    ]
    items = []
    for order_id, *_ in orders:
        for book_id in sorted(rng.sample(range(1, n_books + 1), rng.randint(1, 4))):
            items.append((order_id, book_id, rng.randint(1, 3), books[book_id - 1][5]))
    reviews = [
        (
            i,
            rng.randint(1, n_books),
            rng.randint(1, n_customers),
            rng.randint(1, 5),
            None if rng.random() < 0.3 else rng.choice(_REVIEWS),
        )
        for i in range(1, 200 + seed % 19 + 1)
    ]
    return {
        "authors": authors,
        "books": books,
        "customers": customers,
        "orders": orders,
        "order_items": items,
        "reviews": reviews,
    }


def ddl(dialect: str) -> list[str]:
    """CREATE TABLE statements for ``dialect`` (``sqlite``, ``postgres`` or ``mysql``), in dependency order."""
    types = _TYPES[dialect]
    statements = []
    for table, columns in TABLES.items():
        parts = [f"{name} {types[kind]} {extra}".strip() for name, kind, extra in columns]
        if table in _COMPOSITE_KEYS:
            parts.append(f"PRIMARY KEY ({', '.join(_COMPOSITE_KEYS[table])})")
        statements.append(f"CREATE TABLE {table} (\n  " + ",\n  ".join(parts) + "\n)")
    return statements


def load(connection: Any, dialect: str, seed: int) -> None:
    """Create the tables on a DB-API connection and insert one variant's rows (the caller commits)."""
    marker = "?" if dialect == "sqlite" else "%s"
    cursor = connection.cursor()
    for statement in ddl(dialect):
        cursor.execute(statement)
    for table, values in rows(seed).items():
        placeholders = ", ".join([marker] * len(TABLES[table]))
        cursor.executemany(f"INSERT INTO {table} VALUES ({placeholders})", values)
    cursor.close()


def write_sqlite(path: Path, seed: int) -> Path:
    """Write one variant as a SQLite file (atomically: a half-written file is never left at ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        with connection:
            load(connection, "sqlite", seed)
        connection.close()
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def sample_databases(folder: Path) -> dict[str, list[str]]:
    """``{"bookshop": [url of each variant]}``, writing the SQLite files into ``folder`` the first time."""
    urls = []
    for seed in SEEDS:
        path = Path(folder) / f"{DB_ID}-v{VERSION}-seed{seed}.sqlite"
        if not path.exists():
            write_sqlite(path, seed)
        urls.append(f"sqlite:///{path.resolve()}")
    return {DB_ID: urls}


def _main() -> None:
    parser = argparse.ArgumentParser(description="Write the sample bookshop database to a file or a server.")
    parser.add_argument("url", help="sqlite:///file.db, postgresql://user@host:port/db or mysql://user@host:port/db")
    parser.add_argument("--seed", type=int, default=SEEDS[0], help="which variant (default 1)")
    arguments = parser.parse_args()
    from resources.database.urls import DatabaseURL

    url = DatabaseURL.parse(arguments.url)
    if url.dialect == "sqlite":
        write_sqlite(Path(url.path), arguments.seed)
        return
    if url.dialect == "postgres":
        import psycopg

        connection = psycopg.connect(
            host=url.host, port=url.port, dbname=url.database, user=url.user or None, password=url.password
        )
    else:
        import pymysql

        connection = pymysql.connect(
            host=url.host, port=url.port, user=url.user or None, password=url.password or "", database=url.database
        )
    with connection:
        load(connection, url.dialect, arguments.seed)
        connection.commit()


if __name__ == "__main__":
    _main()
