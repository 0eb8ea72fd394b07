"""Property-based fuzz of every reader: whatever bytes a file holds, reading it crashes nothing, raises nothing but
a ``SourceReadError`` naming the file, and accounts for every record (rows in = kept + quarantined, each entry
naming its file and line).

Files are built from pieces that have broken readers before: truncations, random bytes, Latin-1, UTF-16 and
UTF-32 with and without byte-order marks, NUL bytes, mixed line endings, unbalanced quotes, deep nesting, cells
longer than Python's csv limit, NaN, integers beyond int64, binary and other odd Parquet types. A fast,
deterministic seed runs with the unit tests; ``-m slow`` runs 2,000 examples per format.

Nesting deep enough to crash pyarrow (tens of thousands of levels) is not generated here, as a crash would take
pytest down with it: ``test_readers.py`` reads such a file in a subprocess. Instead every example checks the guard
that keeps it away from pyarrow: no line handed to pyarrow holds more than 1,000 opening brackets.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import math
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import operators.sources.readers as readers
from operators.errors import SourceReadError
from operators.sources.file_source import FileSource
from operators.sources.readers import IngestResult, read_source

FILE_LEVEL_REASONS = {"empty_file", "broken_link", "not_a_regular_file"}
ARROW_SAFE_OPENS = 1_000
WIDE_MARKS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
COLUMN_SETS = [
    {"text": "string"},
    {"text": "string", "n": "int?"},
    {"text": "string?", "meta": "json?"},
    {"n": "float", "flag": "bool?"},
    {"text": "json"},
]
SEED = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
LONG = settings(SEED, max_examples=2_000, derandomize=False)

# --- the pieces files are made of ---

names = st.sampled_from(["text", "n", "meta", "flag", "x", "", "é", "_row_id", "a b"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3))
records = st.dictionaries(names, values, max_size=5)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """A value nested 1 to 3,000 levels deep, of arrays, objects or both, possibly with brackets in strings."""
    levels = draw(st.integers(1, 40) | st.integers(40, 3_000))
    opening, closing = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"k":', "}]"), ('["]]",', "]")]))
    return opening * levels + "1" + closing * levels


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """The text of one JSON value: usually a record, sometimes anything else, nested deep, wide or long."""
    kind = draw(st.sampled_from(["record", "record", "record", "value", "deep", "wide", "long"]))
    if kind == "record":
        return json.dumps(draw(records), ensure_ascii=draw(st.booleans()))
    if kind == "value":
        return json.dumps(draw(values))
    if kind == "deep":
        return '{"text": "deep", "x": ' + draw(nested()) + "}"
    if kind == "wide":  # more opening brackets than pyarrow may see, yet shallow
        return json.dumps({"text": "wide", "x": [[i] for i in range(draw(st.integers(900, 1_100)))]})
    return json.dumps({"text": "x" * draw(st.sampled_from([131_072, 131_073, 200_000]))})


def damaged(draw: st.DrawFn, text: str) -> bytes:
    """``text`` as bytes, maybe cut short, maybe in another encoding, maybe with random bytes in it."""
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16-le"])), errors="replace")
    how = draw(st.sampled_from(["intact", "intact", "cut", "noise", "nul"]))
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        return data[:at]
    if how == "noise":
        return data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data[:at] + b"\x00" + data[at:] if how == "nul" else data


@st.composite
def whole_file(draw: st.DrawFn, lines: list[bytes]) -> bytes:
    """Lines joined by mixed line endings, then maybe a byte-order mark or a different encoding for all of it."""
    endings = st.sampled_from([b"\n", b"\n", b"\r\n", b"\r", b""])
    data = b"".join(line + draw(endings) for line in lines)
    how = draw(st.sampled_from(["plain", "plain", "plain", "utf8-mark", "wide", "wide-unmarked", "cut"]))
    if how == "utf8-mark":
        return codecs.BOM_UTF8 + data
    if how in ("wide", "wide-unmarked"):
        mark, codec = draw(st.sampled_from(WIDE_MARKS))
        encoded = data.decode(errors="replace").encode(codec)
        return (mark if how == "wide" else b"") + encoded
    return data[: draw(st.integers(0, len(data)))] if how == "cut" else data


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(json_texts().map(str.strip) | st.text(max_size=20), max_size=6))
    return draw(whole_file([damaged(draw, line.replace("\n", " ")) for line in lines]))


@st.composite
def json_files(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """A JSON array and how many records it holds (``None`` once damaged)."""
    elements = draw(st.lists(json_texts(), max_size=5))
    document = "[" + ",\n".join(elements) + "]"
    if draw(st.booleans()):
        return document.encode(), len(elements)
    return draw(whole_file([damaged(draw, document)])), None


cells = st.text(max_size=10) | st.sampled_from(['"', '""', '"open', "a,b", "x\ny", "\r", "\x00", "-0", "1e400", "[[["])


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """A CSV file and how many records it holds (``None`` unless it is well-formed UTF-8 with a usable header)."""
    header = draw(st.lists(names | st.text(max_size=4), min_size=1, max_size=4))
    rows = draw(st.lists(st.lists(cells, min_size=1, max_size=5), max_size=6))
    if draw(st.booleans()):
        rows.append(["x" * 131_073] * len(header))
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    csv.writer(out, quoting=quoting).writerows([header, *rows])
    text = out.getvalue()
    lines = text.split("\r\n")
    usable = len(set(header)) == len(header) and "_row_id" not in header and "\x00" not in text and lines[0].strip()
    if draw(st.booleans()):
        return text.encode(), sum(1 for row in rows if written_row(row, quoting).strip()) if usable else None
    return draw(whole_file([damaged(draw, line) for line in text.split("\n")])), None


def written_row(row: list[str], quoting: int) -> str:
    """A row as ``csv.writer`` writes it: a row that is only whitespace is a blank line, not a record."""
    out = io.StringIO()
    csv.writer(out, quoting=quoting).writerow(row)
    return out.getvalue()


ARROW_COLUMNS = {
    "text": [
        pa.array(["a", None, "ccc"]),
        pa.array([b"ok", b"\xff\xfe", None], pa.binary()),
        pa.array([1, 2, None]),
        pa.array(["x", "y", "x"]).dictionary_encode(),
        pa.array([None, None, None], pa.null()),
        pa.array(["[1]", "[" * 40 + "]" * 40, "{oops"], pa.large_string()),
    ],
    "n": [
        pa.array([1, None, 3]),
        pa.array([1.5, math.nan, -0.0]),
        pa.array(["1", "two", None]),
        pa.array([2**64 - 1, 0, 1], pa.uint64()),
        pa.array([1, 2, 3], pa.decimal128(5, 2)),
        pa.array([True, False, None]),
    ],
    "extra": [
        pa.array([[b"\xff"], [], None], pa.list_(pa.binary())),
        pa.array([{"b": b"z"}, None, {"b": None}], pa.struct([("b", pa.binary())])),
        pa.array([0, 1, None], pa.date32()),
        pa.array([0, 1, 2], pa.timestamp("us", tz="UTC")),
        pa.array([0, 1, 2], pa.duration("s")),
        pa.array([b"ab", b"cd", b"\x00\x00"], pa.binary(2)),
        pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),
    ],
}


def deep_list(levels: int) -> pa.Array:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return pa.array([value, None, None])


@st.composite
def parquet_files(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """A Parquet file of odd column types and how many rows it holds (``None`` once damaged)."""
    columns = {name: draw(st.sampled_from(options)) for name, options in ARROW_COLUMNS.items() if draw(st.booleans())}
    if draw(st.integers(0, 9)) == 0:
        columns["deep"] = deep_list(draw(st.integers(25, 40)))
    height = draw(st.integers(0, 3))
    table = pa.table({name: array[:height] for name, array in columns.items()} or {"text": pa.array([], pa.string())})
    out = io.BytesIO()
    pq.write_table(table, out)
    data = bytearray(out.getvalue())
    how = draw(st.sampled_from(["intact", "intact", "cut", "flip", "random", "empty"]))
    if how == "intact":
        return bytes(data), table.num_rows
    if how == "cut":
        return bytes(data[: draw(st.integers(0, len(data) - 1))]), None
    if how == "flip":
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data), None
    return (draw(st.binary(max_size=64)) if how == "random" else b""), None


@st.composite
def delta_frames(draw: st.DrawFn) -> pl.DataFrame:
    texts = st.none() | st.text(alphabet=string.printable + "\x00\u00e9\u4e2d", max_size=8)
    height = draw(st.integers(0, 3))
    frame = pl.DataFrame({"text": draw(st.lists(texts, min_size=height, max_size=height))}, schema={"text": pl.String})
    if draw(st.booleans()):
        frame = frame.with_columns(
            pl.Series("n", draw(st.lists(st.integers(-5, 5), min_size=height, max_size=height)), dtype=pl.Int64)
        )
    if draw(st.booleans()):
        frame = frame.with_columns(pl.Series("blob", [b"\xff"] * height, dtype=pl.Binary))
    return frame


# --- the invariants ---


@contextlib.contextmanager
def pyarrow_sees_only_safe_lines() -> Iterator[None]:
    """Fail the example if pyarrow's JSON reader is handed a line that might nest deep enough to crash it."""
    parse = readers._arrow_read_json

    def guarded(data: bytes, *args: Any) -> pa.Table:
        most = max(line.count(b"[") + line.count(b"{") for line in data.split(b"\n"))
        assert most <= ARROW_SAFE_OPENS, f"pyarrow was handed a line with {most} opening brackets"
        return parse(data, *args)

    with mock.patch.object(readers, "_arrow_read_json", guarded):
        yield


def read_one(path: Path, columns: dict[str, str], *, fast: bool = True) -> IngestResult | SourceReadError:
    """Read one file; a ``SourceReadError`` is an outcome, any other exception fails the example."""
    source = FileSource(path=str(path.parent), columns=columns)
    patches = contextlib.ExitStack()
    if not fast:
        patches.enter_context(mock.patch.object(readers, "_read_jsonl_fast", lambda *_: None))
    with patches, pyarrow_sees_only_safe_lines():
        try:
            return read_source(source, [path], partition_key=None)
        except SourceReadError as error:
            return error


def check(path: Path, outcome: IngestResult | SourceReadError, records: int | None = None) -> None:
    """Every record is kept or quarantined, every entry names its file (and line), an error names the file."""
    if isinstance(outcome, SourceReadError):
        assert path.name in str(outcome), f"the error does not name the file: {outcome}"
        return
    rows, quarantine = outcome.rows, outcome.quarantine
    line_level = quarantine.filter(pl.col("_source_line").is_not_null())
    assert outcome.rows_in == rows.height + line_level.height
    assert set(quarantine["_source_file"]) <= {path.name} and set(rows["_source_file"]) <= {path.name}
    assert all(
        detail.startswith(f"{path.name} ") or detail.startswith(f"{path.name}:") for detail in quarantine["_detail"]
    )
    assert set(quarantine.filter(pl.col("_source_line").is_null())["_reason"]) <= FILE_LEVEL_REASONS
    assert line_level["_row_id"].null_count() == 0 and (line_level["_source_line"] >= 1).all()
    assert (rows["_source_line"] >= 1).all()
    lines = [*rows["_source_line"], *line_level["_source_line"]]
    assert len(lines) == len(set(lines)), "a record is both kept and quarantined, or counted twice"
    if records is not None:
        assert outcome.rows_in == records
    if outcome.rows_in == 0:
        assert quarantine["_reason"].to_list() in (["empty_file"], ["broken_link"], ["not_a_regular_file"])


def jsonl_records(data: bytes) -> int | None:
    """The records a JSONL file holds by its contract: each line that is not UTF-8 or not blank; ``None`` where
    the file is not readable text at all (a byte-order mark on bytes of another encoding)."""
    for mark, codec in WIDE_MARKS:
        if data.startswith(mark):
            try:
                data = data[len(mark) :].decode(codec).encode()
            except UnicodeDecodeError:
                return None
            break
    count = 0
    for raw in io.BytesIO(data.removeprefix(codecs.BOM_UTF8)):
        try:
            count += bool(raw.decode().strip())
        except UnicodeDecodeError:
            count += 1
    return count


@contextlib.contextmanager
def written(content: bytes, name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        yield path


def fuzz_jsonl(data: bytes, columns: dict[str, str]) -> None:
    with written(data, "a.jsonl") as path:
        usual, precise = read_one(path, columns), read_one(path, columns, fast=False)
        check(path, usual, jsonl_records(data))
        if isinstance(usual, IngestResult) and isinstance(precise, IngestResult):
            assert usual.rows.schema == precise.rows.schema
            assert repr(usual.rows.to_dicts()) == repr(precise.rows.to_dicts())
            assert usual.quarantine.equals(precise.quarantine)
        else:
            assert type(usual) is type(precise)


def fuzz_file(name: str, data: bytes, records: int | None, columns: dict[str, str]) -> None:
    with written(data, name) as path:
        check(path, read_one(path, columns), records)


def fuzz_delta(frame: pl.DataFrame, columns: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table"
        frame.write_delta(path)
        check(path, read_one(path, columns), frame.height)


# --- the seed (fast, deterministic) and the long run ---

column_sets = st.sampled_from(COLUMN_SETS)


@SEED
@given(data=jsonl_files(), columns=column_sets)
@example(data=b'{"n": [false, []]}\n', columns=COLUMN_SETS[2])  # found by the fuzz: a raw TypeError from polars
def test_jsonl_fuzz_seed(data: bytes, columns: dict[str, str]) -> None:
    fuzz_jsonl(data, columns)


@SEED
@given(file=json_files(), columns=column_sets)
def test_json_fuzz_seed(file: tuple[bytes, int | None], columns: dict[str, str]) -> None:
    fuzz_file("a.json", *file, columns)


@SEED
@given(file=csv_files(), columns=column_sets)
def test_csv_fuzz_seed(file: tuple[bytes, int | None], columns: dict[str, str]) -> None:
    fuzz_file("a.csv", *file, columns)


@SEED
@given(file=parquet_files(), columns=column_sets)
def test_parquet_fuzz_seed(file: tuple[bytes, int | None], columns: dict[str, str]) -> None:
    fuzz_file("a.parquet", *file, columns)


@settings(SEED, max_examples=4)
@given(frame=delta_frames(), columns=column_sets)
def test_delta_fuzz_seed(frame: pl.DataFrame, columns: dict[str, str]) -> None:
    fuzz_delta(frame, columns)


@pytest.mark.slow
@LONG
@given(data=jsonl_files(), columns=column_sets)
def test_jsonl_fuzz_long(data: bytes, columns: dict[str, str]) -> None:
    fuzz_jsonl(data, columns)


@pytest.mark.slow
@LONG
@given(file=json_files(), columns=column_sets)
def test_json_fuzz_long(file: tuple[bytes, int | None], columns: dict[str, str]) -> None:
    fuzz_file("a.json", *file, columns)


@pytest.mark.slow
@LONG
@given(file=csv_files(), columns=column_sets)
def test_csv_fuzz_long(file: tuple[bytes, int | None], columns: dict[str, str]) -> None:
    fuzz_file("a.csv", *file, columns)


@pytest.mark.slow
@LONG
@given(file=parquet_files(), columns=column_sets)
def test_parquet_fuzz_long(file: tuple[bytes, int | None], columns: dict[str, str]) -> None:
    fuzz_file("a.parquet", *file, columns)


@pytest.mark.slow
@settings(LONG, max_examples=200)
@given(frame=delta_frames(), columns=column_sets)
def test_delta_fuzz_long(frame: pl.DataFrame, columns: dict[str, str]) -> None:
    fuzz_delta(frame, columns)
