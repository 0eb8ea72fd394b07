"""Execution match: do two queries give the same result, by the conventions of Spider's execution evaluation?

Yu et al. 2018 (Spider) and Zhong et al. 2020 (test-suite accuracy, ``exec_eval.py``'s ``result_eq``) compare
*denotations*, not text:

- results are multisets of rows: duplicates count, row order is ignored...
- ...unless the gold query has ORDER BY at its outermost level; then rows are compared in order (Spider looks for
  the words "order by" anywhere in the query; a sub-query's ORDER BY does not order the result, so here only the
  outermost level counts);
- column names are ignored and columns may be permuted: the prediction matches if *some* permutation of its columns
  gives the gold result (``SELECT name, age`` matches ``SELECT age, name``);
- numbers are equal within a relative 1e-6 (``AVG`` computed two ways), integers and decimals compare as numbers,
  booleans as 0 and 1; dates and times as their ISO text (what SQLite stores); other text compares exactly; NULL
  equals only NULL;
- two empty results are equal (as in ``result_eq``, whatever their columns);
- a query that is refused, errors or times out matches nothing, and a result cut at the engine's row cap cannot be
  compared, so it does not match either;
- with variants (one schema, several contents) the results must match on every variant: a query that is right on
  one database by accident is caught on another.

DataFlow compares results by column names, which fails ``SELECT COUNT(*)`` against ``SELECT COUNT(id) AS n``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from operators.database.protocol import Database, ExecutionResult

REL_TOL = 1e-6
MAX_PERMUTATIONS = 10_000
"""Column permutations tried at most (only columns whose values match as multisets are candidates, so a real
result rarely needs more than a handful)."""
MAX_MATCHING_ROWS = 2_000
"""Largest result matched row by row when sorting is not enough (numbers near each other in different orders)."""


@dataclass(frozen=True)
class Match:
    """The verdict on a pair of queries: ``equal``, or the reason they are not."""

    equal: bool
    reason: str | None = None


def has_outer_order_by(sql: str, dialect: str | None) -> bool:
    """True when the query orders its result: an ORDER BY at its outermost level (also around a set operation)."""
    tree = _parse(sql, dialect)
    while isinstance(tree, exp.Subquery | exp.Paren) and not tree.args.get("order"):
        tree = tree.this
    return tree is not None and bool(tree.args.get("order"))


@lru_cache(maxsize=4096)
def _parse(sql: str, dialect: str | None) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return None


class ExecutionMatcher:
    """Compares queries on a database's variants, running each gold query once per variant however many
    predictions it is compared with (gold results are kept for the matcher's life: one operator run)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._results: dict[tuple[str, str], list[ExecutionResult]] = {}

    def results(self, db_id: str, sql: str) -> list[ExecutionResult]:
        """Results on every variant, stopping at the first that fails; cached."""
        key = (db_id, sql)
        if key not in self._results:
            self._results[key] = self.database.execute_all(db_id, sql)
        return self._results[key]

    def match(self, db_id: str, predicted: str, gold: str) -> Match:
        gold_results = self.results(db_id, gold)
        if not gold_results[-1].ok:
            return Match(False, f"gold query {describe_failure(gold_results[-1])}")
        ordered = has_outer_order_by(gold, self.database.dialect(db_id))
        for variant, gold_result in enumerate(gold_results):
            predicted_result = self.database.execute(db_id, predicted, variant=variant)
            if not predicted_result.ok:
                return Match(False, f"query {describe_failure(predicted_result)}")
            reason = compare(gold_result, predicted_result, ordered=ordered)
            if reason is not None:
                where = f" on {gold_result.database}" if len(gold_results) > 1 else ""
                return Match(False, reason + where)
        return Match(True)


def describe_failure(result: ExecutionResult) -> str:
    """``"refused (not_read_only): DELETE is not a query on sqlite:///x.db"``."""
    cause = f" ({result.cause})" if result.cause and result.cause != result.status else ""
    return f"{result.status}{cause}: {result.reason} on {result.database}"


def compare(gold: ExecutionResult, predicted: ExecutionResult, *, ordered: bool) -> str | None:
    """None when the results are equal under the conventions above, else why not."""
    if gold.truncated or predicted.truncated:
        return f"a result has more rows than the engine keeps ({max(gold.row_count, predicted.row_count)})"
    expected = [tuple(_canonical(v) for v in row) for row in gold.rows]
    actual = [tuple(_canonical(v) for v in row) for row in predicted.rows]
    if not expected and not actual:
        return None
    if len(expected) != len(actual):
        return f"{len(actual)} row(s) instead of {len(expected)}"
    if gold.columns != predicted.columns:
        return f"{predicted.columns} column(s) instead of {gold.columns}"
    candidates = _column_candidates(expected, actual, gold.columns)
    for column, found in enumerate(candidates):
        if not found:
            return f"the values of column {column + 1} are in no column of the gold result"
    for tried, permutation in enumerate(_permutations(candidates)):
        if tried >= MAX_PERMUTATIONS:
            return f"no match within {MAX_PERMUTATIONS} column permutations"
        source = [permutation.index(i) for i in range(gold.columns)]  # gold column i <- predicted column source[i]
        permuted = [tuple(row[j] for j in source) for row in actual]
        if _rows_equal(expected, permuted) if ordered else _multisets_equal(expected, permuted):
            return None
    return "rows differ" + (" (in order: the gold query has ORDER BY)" if ordered else "")


def _canonical(value: Any) -> Any:
    """One representation per value across drivers: bools as ints, decimals as floats, buffers as bytes, dates and
    times as the ISO text SQLite stores them as (so ``d`` and ``CAST(d AS TEXT)`` agree on every engine)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return repr(sorted(value.items()))
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def values_equal(a: Any, b: Any) -> bool:
    """NULL only equals NULL, numbers are equal within a relative 1e-6, everything else exactly."""
    if a is None or b is None:
        return a is None and b is None
    if _is_number(a) and _is_number(b):
        if isinstance(a, int) and isinstance(b, int):
            return a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b))
        return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)
    return bool(a == b)


def _rows_equal(expected: Sequence[tuple[Any, ...]], actual: Sequence[tuple[Any, ...]]) -> bool:
    return all(
        len(e) == len(a) and all(values_equal(x, y) for x, y in zip(e, a, strict=True))
        for e, a in zip(expected, actual, strict=True)
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if _is_number(value):
        return (1, float(value))
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, bytes):
        return (3, value)
    return (4, repr(value))


def _row_key(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple(_sort_key(v) for v in row)


def _multisets_equal(expected: list[tuple[Any, ...]], actual: list[tuple[Any, ...]]) -> bool:
    if Counter(expected) == Counter(actual):
        return True
    if not any(isinstance(v, float) for row in (*expected, *actual) for v in row):
        return False  # without floats the exact comparison above is the whole answer
    if _rows_equal(sorted(expected, key=_row_key), sorted(actual, key=_row_key)):
        return True
    return len(expected) <= MAX_MATCHING_ROWS and _perfect_matching(expected, actual)


def _perfect_matching(expected: list[tuple[Any, ...]], actual: list[tuple[Any, ...]]) -> bool:
    """Whether every row pairs with an equal row (Kuhn's augmenting paths): for numbers within tolerance that sort
    in different orders across columns. Rows are grouped by their non-float values first, which only equal rows
    share."""
    groups: dict[tuple[Any, ...], tuple[list[int], list[int]]] = {}

    def signature(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple("<float>" if _is_number(v) else v for v in row)

    for i, row in enumerate(expected):
        groups.setdefault(signature(row), ([], []))[0].append(i)
    for j, row in enumerate(actual):
        groups.setdefault(signature(row), ([], []))[1].append(j)
    for left, right in groups.values():
        if len(left) != len(right):
            return False
        edges = {i: [j for j in right if _rows_equal([expected[i]], [actual[j]])] for i in left}
        if not _kuhn(edges):
            return False
    return True


def _kuhn(edges: dict[int, list[int]]) -> bool:
    """True when every left vertex can be matched to a distinct right vertex along ``edges``."""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(augment(i, set()) for i in edges)


def _column_candidates(expected: list[tuple[Any, ...]], actual: list[tuple[Any, ...]], width: int) -> list[list[int]]:
    """For each predicted column, the gold columns holding the same multiset of values (a permutation that makes
    the tables equal must map each column onto one of these)."""
    gold_columns = [tuple(sorted((row[i] for row in expected), key=_sort_key)) for i in range(width)]
    predicted_columns = [tuple(sorted((row[j] for row in actual), key=_sort_key)) for j in range(width)]
    return [
        [i for i, gold_column in enumerate(gold_columns) if _rows_equal([gold_column], [predicted])]
        for predicted in predicted_columns
    ]


def _permutations(candidates: list[list[int]]) -> Iterator[list[int]]:
    """Assignments of predicted columns to distinct gold columns, each from its candidates: ``permutation[j]`` is
    the gold column of predicted column ``j``."""
    chosen: list[int] = []

    def extend(j: int) -> Iterator[list[int]]:
        if j == len(candidates):
            yield list(chosen)
            return
        for i in candidates[j]:
            if i not in chosen:
                chosen.append(i)
                yield from extend(j + 1)
                chosen.pop()

    yield from extend(0)
