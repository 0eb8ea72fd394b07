"""A database's schema as prompt text: CREATE TABLE statements in the engine's dialect, keys, sample values.

The form follows what Text-to-SQL models are trained and prompted on: OmniSQL (Li et al. 2025, arXiv:2503.02240)
and CodeS (Li et al. 2024) give each table as DDL with primary and foreign keys and a few example values per
column as comments, which helps a model match a question's words to values ("Spain" vs "ES").
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from resources.database.backends.base import Table

MAX_SAMPLE_CHARS = 40
"""Longest sample value shown; longer text is cut with an ellipsis."""

_QUOTES = {"sqlite": '"', "postgres": '"', "mysql": "`"}


def render(tables: list[Table], dialect: str) -> str:
    """The tables as CREATE TABLE statements, one after another."""
    return "\n\n".join(_table(table, dialect) for table in tables)


def _table(table: Table, dialect: str) -> str:
    quote = _QUOTES[dialect]

    def name(identifier: str) -> str:
        plain = identifier.isidentifier() and identifier.isascii()
        return identifier if plain else quote + identifier.replace(quote, quote * 2) + quote

    lines = []
    for column in table.columns:
        line = f"  {name(column.name)} {column.type or 'TEXT'}{' NOT NULL' if column.not_null else ''},"
        samples = table.samples.get(column.name, ())
        if samples:
            line += " -- examples: " + ", ".join(_literal(value) for value in samples)
        lines.append(line)
    constraints = []
    if table.primary_key:
        constraints.append(f"  PRIMARY KEY ({', '.join(name(c) for c in table.primary_key)})")
    for key in table.foreign_keys:
        target = name(key.table)
        if key.references:
            target += f" ({', '.join(name(c) for c in key.references)})"
        constraints.append(f"  FOREIGN KEY ({', '.join(name(c) for c in key.columns)}) REFERENCES {target}")
    if not constraints:
        lines[-1] = _drop_trailing_comma(lines[-1])
    else:
        constraints = [c + "," for c in constraints[:-1]] + constraints[-1:]
    return f"CREATE TABLE {name(table.name)} (\n" + "\n".join(lines + constraints) + "\n);"


def _drop_trailing_comma(line: str) -> str:
    code, marker, comment = line.partition(" -- ")
    return code.removesuffix(",") + (marker + comment if marker else "")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return f"'{value.isoformat()}'"
    if isinstance(value, bytes | memoryview):
        return f"<{len(bytes(value))} bytes>"
    text = str(value).replace("\n", " ")
    if len(text) > MAX_SAMPLE_CHARS:
        text = text[: MAX_SAMPLE_CHARS - 1] + "…"
    return "'" + text.replace("'", "''") + "'"
