"""Nesting depth measured without recursion: on values, types, text and bytes, however deep."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pytest

from operators.sources import nesting
from operators.sources.nesting import MAX_DEPTH, arrow_depth, polars_depth, scan_lines, too_deep, value_depth, value_end


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("[[", 0), ({}, 1), ([1, {"a": []}], 3), ({"a": {"b": [[]]}, "c": 1}, 4)],
)
def test_value_depth(value: object, depth: int) -> None:
    assert value_depth(value) == depth


def test_value_depth_needs_no_stack() -> None:
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert value_depth(value) == 100_001


def test_too_deep_counts_the_levels_above_a_value() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert not too_deep(at_limit, json.loads(at_limit))
    assert too_deep(at_limit, json.loads(at_limit), levels_above=1)


def test_type_depths() -> None:
    schema = pa.schema([("a", pa.int64()), ("b", pa.list_(pa.struct([("c", pa.list_(pa.string()))])))])
    assert arrow_depth(schema) == 4  # the record, the list, the struct, the inner list
    assert polars_depth(pl.List(pl.Struct({"c": pl.Array(pl.Int8, 2)}))) == 3
    assert polars_depth(pl.String) == 0


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ('[1, "]", [2]] tail', 0, 13),  # a bracket inside a string does not count
        ('x {"a": "\\"}"} y', 2, 14),  # nor one after an escaped quote
        ('{"a": "\\\\"}', 0, 11),  # an escaped backslash ends the string
        ("[[[", 0, None),
    ],
)
def test_value_end_steps_over_one_value(text: str, start: int, end: int | None) -> None:
    assert value_end(text, start) == end


def test_value_end_of_a_value_too_deep_to_parse() -> None:
    text = "[" * 200_000 + "]" * 200_000
    assert value_end(text + ", 1]", 0) == len(text)


def test_scan_lines_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nesting, "_CHUNK", 64)  # many chunks, lines straddling them
    lines = [b'{"a": [1]}', b"{" * 150 + b"}" * 150, b"", b'{"b": "[[{{"}', b"[" * 7]
    data = b"\n".join(lines)
    breaks, most = scan_lines(data, len(data))

    assert breaks.tolist() == [i for i, byte in enumerate(data) if byte == ord("\n")]
    assert most == max(line.count(b"[") + line.count(b"{") for line in lines) == 150


def test_scan_lines_of_a_single_line() -> None:
    breaks, most = scan_lines(b"[{x", 3)
    assert breaks.tolist() == [] and most == 2
