"""How deep JSON nests, measured with loops, never recursion, so that no record can exhaust a stack.

Parsers recurse once per level of nesting, so a record nested deep enough takes down whatever reads it: Python's
``json`` raises ``RecursionError`` near 1,000 levels (fewer inside a deep call stack), and pyarrow 26's JSON reader
hangs at 10,000 nested arrays and crashes the process (SIGSEGV) at 50,000 (measured here). Much shallower records
already cannot be stored: a Delta table's schema nests deeper than its reader accepts past 42 levels of objects
(delta-rs decodes the schema with serde_json, whose recursion limit is 128; each nested object takes three levels
of it, each array one). Readers therefore quarantine any record nested deeper than :data:`MAX_DEPTH`; the helpers
here measure depth on decoded values, on text, on bytes and on column types without recursing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

MAX_DEPTH = 32
"""Deepest record read, counting its own object as level 1: ``{"a": [1]}`` is 2 deep. 32 levels of objects are
far from the 42 a Delta table's schema can hold, and from any parser's recursion limit."""

_CHUNK = 1 << 18
"""Bytes scanned at a time by :func:`scan_lines`: the temporary arrays stay in the CPU cache."""

_OPEN_BRACKET_MASK, _OPEN_BRACKET = 0xDF, ord("[")
"""``[`` (0x5B) and ``{`` (0x7B) differ only in bit 0x20, so one mask and one comparison find both."""

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
"""A JSON string (so that brackets inside it are skipped) or a bracket."""

_Node = TypeVar("_Node")


def too_deep(text: str, value: Any, *, levels_above: int = 0) -> bool:
    """Whether ``value``, decoded from ``text`` and found ``levels_above`` levels down in a record, takes the
    record deeper than :data:`MAX_DEPTH`.

    A value can nest no deeper than its text has opening brackets, so counting them (in C) spares the walk over
    the value for nearly every record.
    """
    limit = MAX_DEPTH - levels_above
    return text.count("[") + text.count("{") > limit and value_depth(value) > limit


def value_depth(value: Any) -> int:
    """Levels of objects and arrays in a decoded JSON value: 0 for a scalar, 1 for a flat object or array."""
    return _deepest([value], _json_children)


def arrow_depth(schema: pa.Schema) -> int:
    """Levels of a record of ``schema``: 1 for its own object plus its deepest column's lists and structs."""
    return 1 + _deepest(schema.types, _arrow_children)


def polars_depth(dtype: pl.DataType) -> int:
    """Levels of lists, arrays and structs in a column of ``dtype``: 0 for a scalar type."""
    return _deepest([dtype], _polars_children)


def value_end(text: str, start: int) -> int | None:
    """Where the array or object starting at ``text[start]`` ends (one past its closing bracket), found without
    parsing it; ``None`` if it never closes. Used to step over a value too deep to parse."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text, start):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
        elif bracket in ("]", "}"):
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def scan_lines(data: bytes, end: int) -> tuple[np.ndarray, int]:
    """The positions of the line breaks in ``data[:end]`` and the most opening brackets (``[`` or ``{``, in strings
    or not) on any one line, which bounds how deep that line can nest.

    One vectorized pass in cache-sized chunks; it replaces a regex pass over the same bytes and costs less.
    """
    view = np.frombuffer(data, np.uint8, count=end)
    masked = np.empty(min(_CHUNK, end), np.uint8)
    hits = np.empty(min(_CHUNK, end), np.bool_)
    breaks: list[np.ndarray] = []
    opens: list[np.ndarray] = []
    for start in range(0, end, _CHUNK):
        chunk = view[start : start + _CHUNK]
        found, scratch = hits[: chunk.size], masked[: chunk.size]
        np.equal(chunk, ord("\n"), out=found)
        breaks.append(np.flatnonzero(found) + start)
        np.bitwise_and(chunk, _OPEN_BRACKET_MASK, out=scratch)
        np.equal(scratch, _OPEN_BRACKET, out=found)
        opens.append(np.flatnonzero(found) + start)
    line_breaks = np.concatenate(breaks) if breaks else np.empty(0, np.int64)
    bounds = np.concatenate([[0], line_breaks, [end]])
    per_line = np.diff(np.searchsorted(np.concatenate(opens) if opens else np.empty(0, np.int64), bounds))
    return line_breaks, int(per_line.max(initial=0))


def _deepest(roots: Iterable[_Node], children: Callable[[_Node], Iterable[_Node] | None]) -> int:
    """How many levels ``roots`` nest, ``children`` giving a node's children (``None`` for a leaf), with a loop."""
    deepest = 0
    pending = [(root, 1) for root in roots]
    while pending:
        node, level = pending.pop()
        inner = children(node)
        if inner is not None:
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in inner)
    return deepest


def _json_children(value: Any) -> Iterable[Any] | None:
    if isinstance(value, dict):
        return value.values()
    return value if isinstance(value, list) else None


def _arrow_children(type_: pa.DataType) -> Iterable[pa.DataType] | None:
    if not pa.types.is_nested(type_):
        return None
    return [type_.field(index).type for index in range(type_.num_fields)]


def _polars_children(dtype: pl.DataType) -> Iterable[pl.DataType] | None:
    if isinstance(dtype, pl.List | pl.Array):
        return [dtype.inner]
    if isinstance(dtype, pl.Struct):
        return [field.dtype for field in dtype.fields]
    return None
