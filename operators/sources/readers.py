"""Read a :class:`~operators.sources.file_source.FileSource`'s files into typed rows plus a quarantine of the bad rows.

A bad row never stops ingestion and is never dropped: it lands in the quarantine with a reason, a readable
detail and its raw text, so the user can fix the source and see exactly what was left out. Only a file that
cannot be read at all (missing, unreadable, not of its format) raises :class:`SourceReadError`.

Every row gets a ``_row_id`` derived from its file name and line, so re-ingesting the same file gives the same
ids and lineage stays valid across runs.
"""

from __future__ import annotations

import codecs
import csv
import errno
import hashlib
import io
import json
import os
import re
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from operators.columns import (
    PARTITION,
    QUARANTINE_DETAIL,
    QUARANTINE_RAW,
    QUARANTINE_REASON,
    RESERVED,
    ROW_ID,
    SOURCE_FILE,
    SOURCE_LINE,
)
from operators.errors import SourceReadError
from operators.sources.file_source import ColumnType, FileSource, Format
from operators.sources.nesting import MAX_DEPTH, arrow_depth, polars_depth, scan_lines, too_deep, value_end
from operators.sources.parquet_file import PARQUET_ERRORS, load_delta, load_parquet

QUARANTINE_SCHEMA = pl.Schema(
    {
        ROW_ID: pl.String,
        PARTITION: pl.String,
        SOURCE_FILE: pl.String,
        SOURCE_LINE: pl.Int64,
        QUARANTINE_REASON: pl.String,
        QUARANTINE_DETAIL: pl.String,
        QUARANTINE_RAW: pl.String,
    }
)
"""The quarantine table's schema, the same for every source and also when nothing was quarantined."""

_PROBLEM_SCHEMA = pl.Schema(
    {
        SOURCE_LINE: pl.Int64,
        QUARANTINE_REASON: pl.String,
        QUARANTINE_DETAIL: pl.String,
        QUARANTINE_RAW: pl.String,
    }
)
_DTYPES: dict[ColumnType, pl.DataType] = {
    "string": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "json": pl.String(),
}
_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}
_UNIT: dict[Format, str] = {
    "jsonl": "line",
    "csv": "line",
    "json": "record",
    "parquet": "row",
    "delta": "row",
}
_INT64_RANGE = range(-(2**63), 2**63)
_FIELD_LIMIT_LOCK = threading.Lock()
_WIDE_UNICODE = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),  # before UTF-16: its mark starts with UTF-16's little-endian one
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_JSON_WHITESPACE = b" \t\r\n"
_ARROW_SAFE_OPENS = 1_000
"""Most opening brackets a line may hold to be parsed by pyarrow: nesting that deep is safe for it (10,000 levels
hang it, 50,000 crash it), and the parsed types then show how deep the line really nests."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F]"
)


@dataclass(frozen=True)
class IngestResult:
    """What reading a source gave: the good rows, the quarantined ones, and how many records there were."""

    rows: pl.DataFrame
    quarantine: pl.DataFrame
    rows_in: int
    """Records found in the files: ``rows.height`` plus the quarantined rows (file-level entries excluded)."""


class _Problem(NamedTuple):
    reason: str
    detail: str


_TOO_DEEP = _Problem("nesting_too_deep", f"nested more than {MAX_DEPTH} levels deep")
_EMPTY_FILE = _Problem("empty_file", "the file is empty (no records)")


@dataclass(frozen=True)
class _FileRead:
    """One file's good rows (``_source_line``, then data columns) and problems (``_PROBLEM_SCHEMA``)."""

    rows: pl.DataFrame
    problems: pl.DataFrame


class _Case(NamedTuple):
    """A vectorized check: rows where ``condition`` holds have problem ``reason``, explained by ``detail``."""

    condition: pl.Expr
    reason: str
    detail: pl.Expr


def read_source(source: FileSource, files: list[Path], *, partition_key: str | None) -> IngestResult:
    """Read ``files`` of ``source``; rows from all files are stacked, extra columns aligned by name."""
    reads = [_stamp(source, file, partition_key) for file in files]
    empty = _stamp_rows(_records_frame([], [], source, Path()), "", partition_key)  # the schema, even for no files
    rows = pl.concat([empty, *(rows for rows, _ in reads)], how="diagonal_relaxed")
    quarantine = pl.concat([QUARANTINE_SCHEMA.to_frame(), *(problems for _, problems in reads)])
    return IngestResult(rows, quarantine, rows.height + quarantine[SOURCE_LINE].count())


def row_tag(relative_name: str) -> str:
    """The file part of ``_row_id``: a short hash of the file's name, stable across runs and machines."""
    return hashlib.blake2b(relative_name.encode(), digest_size=8).hexdigest()[:8]


def _stamp(source: FileSource, file: Path, partition_key: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read one file and add the columns that say where each row and problem came from."""
    read, unit = _read_file(source, file)
    name = source.relative_name(file)
    line = pl.col(SOURCE_LINE).cast(pl.String)
    where = pl.concat_str(pl.lit(f"{name} {unit} "), line, pl.lit(": "), pl.col(QUARANTINE_DETAIL))
    problems = read.problems.sort(SOURCE_LINE, nulls_last=True).select(
        _row_id(name),  # null for file-level entries; the id a good row on that line would have had
        pl.lit(partition_key, pl.String).alias(PARTITION),
        pl.lit(name).alias(SOURCE_FILE),
        SOURCE_LINE,
        QUARANTINE_REASON,
        pl.when(pl.col(SOURCE_LINE).is_null())
        .then(pl.concat_str(pl.lit(f"{name}: "), pl.col(QUARANTINE_DETAIL)))
        .otherwise(where)
        .alias(QUARANTINE_DETAIL),
        QUARANTINE_RAW,
    )
    rows = read.rows.select(SOURCE_LINE, *source.columns, pl.exclude(SOURCE_LINE, *source.columns))
    return _stamp_rows(rows, name, partition_key), problems


def _read_file(source: FileSource, file: Path) -> tuple[_FileRead, str]:
    """One file's rows and problems, and what its records are called (line, record, row).

    Every path is accounted for: one that is not a file that can be read (a broken link; a FIFO, which would block
    for ever) and one without a single record (empty, blank, a CSV header alone) each give one file-level entry, so
    that a truncated upload or a moved target does not go unnoticed.
    """
    problem = _path_problem(file)
    if problem:
        read, unit = _no_records(source, file), "file"
    else:
        format_ = source.format_of(file)
        read, unit = _READERS[format_](source, file), _UNIT[format_]
        problem = _EMPTY_FILE if read.rows.is_empty() and read.problems.is_empty() else None
    if problem:
        read = _FileRead(read.rows, _problem_frame([(None, problem.reason, problem.detail, "")]))
    return read, unit


def _path_problem(file: Path) -> _Problem | None:
    """Why a listed path cannot be read as a file or a folder; ``None`` also for a missing path, which the
    reader reports as an unreadable file."""
    try:
        mode = file.stat().st_mode
    except OSError as exc:
        if not file.is_symlink():
            return None
        what = "loops back on itself" if exc.errno == errno.ELOOP else "does not exist"
        return _Problem("broken_link", f"a symbolic link to {os.readlink(file)}, which {what}")
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return _Problem("not_a_regular_file", f"not a regular file ({kind}), so it is not read")


def _row_id(name: str) -> pl.Expr:
    return pl.concat_str(pl.lit(f"{row_tag(name)}-"), pl.col(SOURCE_LINE).cast(pl.String)).alias(ROW_ID)


def _stamp_rows(rows: pl.DataFrame, name: str, partition_key: str | None) -> pl.DataFrame:
    return rows.select(
        _row_id(name),
        pl.lit(partition_key, pl.String).alias(PARTITION),
        pl.lit(name).alias(SOURCE_FILE),
        pl.all(),
    )


# --- reading bytes ---


def _read_bytes(file: Path) -> bytes:
    """The file's text as UTF-8 bytes, without a byte-order mark.

    A UTF-8 mark is dropped (it would spoil the first record). A file that starts with a UTF-16 or UTF-32 mark,
    as Windows tools write text, is transcoded; its line breaks stay, so its lines keep their numbers.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SourceReadError(f"{file}: cannot read the file ({exc.strerror or exc})") from exc
    for mark, codec, name in _WIDE_UNICODE:
        if data.startswith(mark):
            try:
                return data[len(mark) :].decode(codec).encode()
            except UnicodeDecodeError as exc:
                raise SourceReadError(
                    f"{file}: starts with a {name} byte-order mark but is not valid {name} "
                    f"({exc.reason} at byte {exc.start + len(mark)})",
                    hint="save the file as UTF-8",
                ) from exc
    return data.removeprefix(codecs.BOM_UTF8)


def _is_blank(data: bytes) -> bool:
    """Whether the file holds only whitespace; ``isspace`` stops at the first other byte, without a copy."""
    return not data or data.isspace()


def _no_records(source: FileSource, file: Path) -> _FileRead:
    return _FileRead(_records_frame([], [], source, file), _problem_frame([]))


def _utf8_lines(data: bytes) -> tuple[list[tuple[int, str]], list[tuple[int, str, str, str]]]:
    """Numbered lines (ends kept); a line that is not UTF-8 becomes a problem and the others stay usable."""
    lines: list[tuple[int, str]] = []
    problems: list[tuple[int, str, str, str]] = []
    for number, raw in enumerate(io.BytesIO(data), start=1):
        try:
            lines.append((number, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            detail = f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
            problems.append((number, "invalid_utf8", detail, raw.decode(errors="replace").rstrip("\r\n")))
    return lines, problems


def _problem_frame(entries: list[tuple[int | None, str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(entries, schema=_PROBLEM_SCHEMA, orient="row")


def _reject_reserved(columns: Iterable[str], file: Path) -> None:
    """Refuse data columns named like the framework's own, which they would silently clash with."""
    clash = sorted(RESERVED.intersection(columns))
    if clash:
        raise SourceReadError(
            f"{file}: column {clash[0]!r} uses a name reserved by the framework",
            hint="rename the column in the file; names starting with '_' may collide with framework columns",
        )


# --- JSON Lines and JSON ---


def _read_jsonl(source: FileSource, file: Path) -> _FileRead:
    data = _read_bytes(file)
    if _is_blank(data):
        return _no_records(source, file)
    return _read_jsonl_fast(data, source, file) or _read_jsonl_precise(data, source, file)


def _read_jsonl_fast(data: bytes, source: FileSource, file: Path) -> _FileRead | None:
    """Parse a whole clean file at once; ``None`` means something is off and the precise path must look.

    One pyarrow parse reads every column: declared ones with their type, because pyarrow refuses a value of
    another JSON type (polars would turn an int into the string "5"), extra ones by inference. The checks around
    it cost at most one pass over the bytes each (no decoding, no copy), far less than the parse.
    """
    if "json" in source.column_types().values():  # ``json`` columns need ``json.dumps`` of each value
        return None
    lines = _object_lines(data)
    if lines is None or not _is_utf8(data):
        return None
    table = _parse_jsonl(data, source)
    if table is None or table.num_rows != lines or not _numbers_as_precise(table):
        return None
    if any(table.column(name).null_count for name in source.required_columns()):
        return None
    _reject_reserved(table.column_names, file)
    extras = [name for name in table.column_names if name not in source.columns]
    table = table.select([*source.columns, *_by_first_use(data, extras)])
    line = pl.int_range(1, lines + 1, dtype=pl.Int64, eager=True).alias(SOURCE_LINE)
    return _FileRead(_to_polars(table).insert_column(0, line), _problem_frame([]))


def _object_lines(data: bytes) -> int | None:
    """How many lines ``data`` has if each one runs from ``{`` to ``}`` (or ``}\\r``), else ``None``.

    Then a line break can only fall between two objects (``}`` then ``{`` is valid nowhere inside a value), so
    row ``i`` of a whole-file parse is line ``i + 1`` once the row count equals the line count (a line holding
    two objects would add a row). A blank line, padding or any other value sends the file to the precise path.

    So does a line with more opening brackets than :data:`_ARROW_SAFE_OPENS`: it might nest deep enough to crash
    pyarrow, which must never see it (the precise path quarantines it if it is too deep).
    """
    end = len(data)
    while data[end - 1] in _JSON_WHITESPACE:  # no copy (``rstrip`` would make one); ``data`` is not blank
        end -= 1
    if data[:1] != b"{" or data[end - 1] != ord("}"):
        return None
    breaks, most_opens = scan_lines(data, end)
    if most_opens > _ARROW_SAFE_OPENS:
        return None
    view = np.frombuffer(data, np.uint8, count=end)
    before, after = view[breaks - 1], view[breaks + 1]  # ``data`` starts with "{" and ends with "}": in range
    closed = (before == ord("}")) | ((before == ord("\r")) & (view[np.maximum(breaks - 2, 0)] == ord("}")))
    return len(breaks) + 1 if bool(np.all(closed & (after == ord("{")))) else None


def _by_first_use(data: bytes, keys: list[str]) -> list[str]:
    """``keys`` in the order the lines first use them, as the precise path orders extra columns.

    pyarrow's threads may order inferred columns differently from run to run. Usually the first line holds every
    key; lines are read until at most one key is left, which must then come last.
    """
    wanted = set(keys)
    seen: dict[str, None] = {}  # insertion-ordered; a key seen again keeps its place
    start = 0
    while len(wanted) - len(seen) > 1:
        end = data.find(b"\n", start) + 1 or len(data)
        seen.update((key, None) for key in json.loads(data[start:end]) if key in wanted)
        start = end
    return [*seen, *(wanted - seen.keys())]


def _to_polars(table: pa.Table) -> pl.DataFrame:
    """``table`` as a polars frame under the same column names (polars would rename a JSON key "" otherwise)."""
    frame = pl.DataFrame(table.rename_columns([str(index) for index in range(table.num_columns)]))
    frame.columns = table.column_names
    return frame


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 (pyarrow's JSON reader does not check), validated by arrow without a copy."""
    # Not ``pa.array([...])``: converting a Python list makes pyarrow probe for pandas, which imports it (~0.3 s).
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _parse_jsonl(data: bytes, source: FileSource) -> pa.Table | None:
    """All of ``data``'s columns typed as the precise path types them, or ``None`` where pyarrow cannot promise that.

    pyarrow raises on what the precise path would quarantine or read differently: bad JSON, a value of another
    type in a declared column, a lone surrogate escape, a repeated key, a number too big for a double. It reads
    a record nested deeper than :data:`MAX_DEPTH` well, but the precise path quarantines it.
    """
    declared = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in source.column_types().items()])
    try:
        table = _arrow_read_json(data, declared, "infer")
        if arrow_depth(table.schema) > MAX_DEPTH:  # the types nest as deep as the deepest value
            return None
        if any(_is_wide_struct(type_) for type_ in _nested_types(table.schema)):
            return None
        if any(pa.types.is_timestamp(type_) for type_ in _nested_types(table.schema)) or not _is_valid(table):
            table = _arrow_read_json(data, _timestamps_as_text(table.schema), "error")
            if not _is_valid(table):
                return None
    except pa.ArrowException:
        return None
    return table


def _arrow_read_json(data: bytes, schema: pa.Schema, unexpected: str) -> pa.Table:
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected)
    return pa_json.read_json(pa.BufferReader(data), parse_options=options)


def _nested_types(schema: pa.Schema) -> Iterator[pa.DataType]:
    """Every column's type and the types nested in it (list items, struct fields), however deep."""
    pending = list(schema.types)
    while pending:
        type_ = pending.pop()
        yield type_
        pending.extend(type_.field(index).type for index in range(type_.num_fields))


def _is_wide_struct(type_: pa.DataType) -> bool:
    """A struct of several fields, whose field order the precise path takes from how keys vary from row to row.

    Polars merges the objects' key sets in a way pyarrow's table no longer shows (which keys a row lacked, in
    which order it had them), so such a file takes the precise path rather than risk another field order.
    """
    return pa.types.is_struct(type_) and type_.num_fields > 1


def _timestamps_as_text(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every timestamp made a string: pyarrow infers one from text that looks like a date."""

    def as_text(type_: pa.DataType) -> pa.DataType:
        if pa.types.is_timestamp(type_):
            return pa.string()
        if pa.types.is_list(type_):
            return pa.list_(as_text(type_.value_type))
        if pa.types.is_struct(type_):
            return pa.struct([field.with_type(as_text(field.type)) for field in type_])
        return type_

    return pa.schema([field.with_type(as_text(field.type)) for field in schema])


def _is_valid(table: pa.Table) -> bool:
    """Whether the nested columns are sound, which pyarrow's inference does not promise.

    It can count a list's leading nulls without storing them (apache/arrow#51305); reading again with the
    inferred types as an explicit schema avoids that.
    """
    try:
        for column in table.columns:
            if pa.types.is_nested(column.type):
                column.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _numbers_as_precise(table: pa.Table) -> bool:
    """Whether Python's ``json`` would read every float alike, which pyarrow's parse leaves in doubt for some.

    pyarrow accepts ``NaN`` and ``Infinity`` (not JSON: the precise path quarantines them), makes an integer beyond
    int64 a float (the precise path keeps it exact, or finds it the wrong type for a ``float`` column) and reads
    ``-0`` as -0.0 where ``json`` gives the integer 0. Files with such floats (or a true -0.0) take the precise path.
    """
    return not any(
        pc.any(_doubtful(floats)).as_py()
        for column in table.columns
        for chunk in column.chunks
        for floats in _float_arrays(chunk)
    )


def _doubtful(floats: pa.Array) -> pa.Array:
    """Where a float is NaN, infinite, 2**63 or more in size, or -0.0 (the only zero with a negative inverse)."""
    out_of_range = pc.invert(pc.less(pc.abs(floats), 2.0**63))
    negative_zero = pc.and_(pc.equal(floats, 0.0), pc.less(pc.divide(1.0, floats), 0.0))
    return pc.or_(out_of_range, negative_zero)


def _float_arrays(array: pa.Array) -> Iterator[pa.Array]:
    """The float arrays in ``array``, however deeply nested in lists and structs."""
    if pa.types.is_floating(array.type):
        yield array
    elif pa.types.is_list(array.type):
        yield from _float_arrays(array.flatten())
    elif pa.types.is_struct(array.type):
        for index in range(array.type.num_fields):
            yield from _float_arrays(array.field(index))


def _read_jsonl_precise(data: bytes, source: FileSource, file: Path) -> _FileRead:
    """Look at every line on its own, so each bad one is quarantined with its own line number and reason."""
    lines, problems = _utf8_lines(data)
    items = ((number, text.rstrip("\r\n"), _parse_json_line(text)) for number, text in lines if text.strip())
    return _validate_records(items, source, file, problems)


def _parse_json_line(text: str) -> Any:
    try:
        value = _loads(text)
    except RecursionError:
        return _TOO_DEEP
    except json.JSONDecodeError as exc:
        return _Problem("malformed_json", f"malformed JSON ({exc.msg} at column {exc.colno})")
    except ValueError as exc:
        return _Problem("malformed_json", f"malformed JSON ({exc})")
    return _TOO_DEEP if too_deep(text, value) else value


def _loads(text: str) -> Any:
    """Strict JSON: ``NaN`` and ``Infinity`` are Python extensions that other readers reject."""
    return json.loads(text, parse_constant=_reject_constant)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _read_json(source: FileSource, file: Path) -> _FileRead:
    """A JSON array of objects; a file that is not one is unreadable as a whole, not a set of bad rows."""
    data = _read_bytes(file)
    if _is_blank(data):
        return _no_records(source, file)
    try:
        items = list(_array_items(data.decode("utf-8")))
    except UnicodeDecodeError as exc:
        raise SourceReadError(f"{file}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise SourceReadError(
            f"{file}: not a valid JSON document ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except _NotAnArray as exc:
        raise SourceReadError(f"{file}: expected a JSON array of objects, got {exc}") from None
    except ValueError as exc:
        raise SourceReadError(f"{file}: not a valid JSON document ({exc})") from exc
    return _validate_records(items, source, file, [])


class _NotAnArray(Exception):
    """The document is valid JSON of another kind (named by the message)."""


def _array_items(text: str) -> Iterator[tuple[int, str, Any]]:
    """``(record number, raw text, value or problem)`` for each element of the JSON array ``text``.

    Elements are decoded one at a time (``raw_decode`` at an offset: no copy), so that one nested too deep to
    parse is stepped over and quarantined instead of failing the whole document. Raises ``JSONDecodeError`` (or
    ``ValueError`` for ``NaN``) where the document is not valid JSON.
    """
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        try:
            raise _NotAnArray(_json_kind(_loads(text)))
        except RecursionError:
            raise _NotAnArray("a value nested too deep to read") from None
    number, position = 0, _skip_space(text, position + 1)
    closed = text.startswith("]", position)
    while not closed:
        number, start = number + 1, position
        try:
            value, position = _DECODER.raw_decode(text, start)
        except RecursionError:
            value, position = _TOO_DEEP, value_end(text, start) or -1
            if position < 0:
                raise json.JSONDecodeError("Unterminated array or object", text, start) from None
        if value is _TOO_DEEP or too_deep(text[start:position], value):
            yield number, text[start:position], _TOO_DEEP
        else:
            yield number, json.dumps(value), value
        position = _skip_space(text, position)
        closed = text.startswith("]", position)
        if not closed:
            if not text.startswith(",", position):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
            position = _skip_space(text, position + 1)
    end = _skip_space(text, position + 1)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)


def _skip_space(text: str, position: int) -> int:
    return _JSON_SPACE.match(text, position).end()


def _validate_records(
    items: Iterable[tuple[int, str, Any]],
    source: FileSource,
    file: Path,
    problems: list[tuple[int, str, str, str]],
) -> _FileRead:
    """Split decoded records (``(line, raw text, value or _Problem)``) into good rows and problems."""
    lines: list[int] = []
    records: list[dict[str, Any]] = []
    for line, raw, value in items:
        problem = value if isinstance(value, _Problem) else _record_problem(raw, value, source)
        if problem:
            problems.append((line, problem.reason, problem.detail, raw))
        else:
            lines.append(line)
            records.append(value)
    return _FileRead(_records_frame(lines, records, source, file), _problem_frame(problems))


def _record_problem(raw: str, value: Any, source: FileSource) -> _Problem | None:
    """The first thing wrong with a decoded record, checking declared columns in declared order."""
    if not isinstance(value, dict):
        return _Problem("not_an_object", f"expected a JSON object, got {_json_kind(value)}")
    if _escapes_lone_surrogate(raw) and not _is_unicode(value):
        return _Problem("malformed_json", "a string escapes a lone UTF-16 surrogate, which is not valid Unicode")
    for name, declared in source.columns.items():
        kind, required = declared.rstrip("?"), not declared.endswith("?")
        if name not in value:
            if required:
                return _Problem("missing_column", f"required column {name!r} is missing")
        elif value[name] is None:
            if required:
                return _Problem("null_value", f"required column {name!r} is null")
        elif not _fits(value[name], kind):
            shown = json.dumps(value[name])
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            return _Problem("wrong_type", f"column {name!r} should be {kind}, got {_json_kind(value[name])} {shown}")
    return None


def _escapes_lone_surrogate(text: str) -> bool:
    """Whether JSON text may escape a lone UTF-16 surrogate; the cheap search first, as these are rare."""
    return _SURROGATE_ESCAPE.search(text) is not None and _LONE_SURROGATE.search(text) is not None


def _is_unicode(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _fits(value: Any, kind: ColumnType) -> bool:
    """Whether a JSON value has the declared type; booleans are not numbers, ints are floats."""
    is_int = isinstance(value, int) and not isinstance(value, bool) and value in _INT64_RANGE
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return is_int
    if kind == "float":
        return is_int or isinstance(value, float)
    if kind == "bool":
        return isinstance(value, bool)
    return True


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
    return "null" if value is None else kinds[type(value)]


def _records_frame(lines: list[int], records: list[dict[str, Any]], source: FileSource, file: Path) -> pl.DataFrame:
    """Typed rows from validated records: declared columns get their type, extra ones polars' inference."""
    declared = [
        pl.Series(name, [_column_value(record.get(name), kind) for record in records], dtype=_DTYPES[kind])
        for name, kind in source.column_types().items()
    ]
    frame = pl.DataFrame([pl.Series(SOURCE_LINE, lines, dtype=pl.Int64), *declared])
    extras = [{k: v for k, v in record.items() if k not in source.columns} for record in records]
    if not any(extras):
        return frame
    try:
        carried = pl.from_dicts(extras, infer_schema_length=None, strict=False)
    except (pl.exceptions.PolarsError, TypeError) as exc:  # a list mixing types is a TypeError
        raise SourceReadError(
            f"{file}: the extra columns cannot be stored as a table ({exc})",
            hint="declare a column that mixes objects, arrays and scalars as 'json?' to carry it as text",
        ) from exc
    _reject_reserved(carried.columns, file)
    return frame.hstack(carried)


def _column_value(value: Any, kind: ColumnType) -> Any:
    return json.dumps(value) if kind == "json" and value is not None else value


# --- CSV ---


def _read_csv(source: FileSource, file: Path) -> _FileRead:
    """A CSV file with a header row; cells are text until the declared columns are converted.

    A header that cannot be read fails the file: skipping it would make the next line the header, and that
    record would be lost without a word.
    """
    data = _read_bytes(file)
    if _is_blank(data):
        return _no_records(source, file)
    _allow_fields_of(len(data))
    lines, problems = _utf8_lines(data)
    records = _csv_records(lines)
    header = _csv_header(next(records, None), problems, file)
    rows: list[tuple[int, str, list[str]]] = []
    for line, raw, fields in records:
        if isinstance(fields, _Problem):
            problems.append((line, fields.reason, fields.detail, raw))
        elif len(fields) != len(header):
            detail = f"expected {len(header)} fields like the header, got {len(fields)}"
            problems.append((line, "malformed_csv_row", detail, raw))
        else:
            rows.append((line, raw, fields))
    frame = _csv_frame(header, rows, file)
    checked = _check_frame(frame, source, raw=_raw_column)
    return _FileRead(checked.rows, pl.concat([_problem_frame(problems), checked.problems]))


def _csv_header(
    first: tuple[int, str, list[str] | _Problem] | None, problems: list[tuple[int, str, str, str]], file: Path
) -> list[str]:
    """The column names from the first record; a first line that is not UTF-8 or not CSV fails the file."""
    if problems and (first is None or problems[0][0] < first[0]):
        line, _, detail, _ = problems[0]
        raise SourceReadError(f"{file}: the CSV header (line {line}) is {detail}", hint="save the file as UTF-8")
    if first is None:
        return []
    line, _, fields = first
    if isinstance(fields, _Problem):
        raise SourceReadError(f"{file}: the CSV header (line {line}) is not valid CSV: {fields.detail}")
    return fields


def _allow_fields_of(size: int) -> None:
    """Let the ``csv`` module read a cell as long as the file, as JSONL, JSON and Parquet do.

    Its limit (131,072 characters by default) is one setting for the whole process, so it is only ever raised,
    under a lock: two files read at once cannot lower each other's.
    """
    with _FIELD_LIMIT_LOCK:
        if csv.field_size_limit() < size:
            csv.field_size_limit(size)


def _csv_records(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str, list[str] | _Problem]]:
    """Parse CSV records, each with the line it starts on and its raw text (a quoted cell may span lines).

    The reader is strict: a quote that is never closed would otherwise end the file inside one cell, turning
    every line after it into text of that cell.
    """
    consumed: list[tuple[int, str]] = []

    def feed() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line[1]

    reader = csv.reader(feed(), strict=True)
    while True:
        try:
            fields: list[str] | _Problem = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            fields = _Problem("malformed_csv_row", _csv_error(exc, consumed[0][0]))
        raw = "".join(text for _, text in consumed).rstrip("\r\n")
        if raw.strip():
            yield consumed[0][0], raw, fields
        consumed.clear()


def _csv_error(exc: csv.Error, line: int) -> str:
    if str(exc) == "unexpected end of data":
        return f"a quote opened on line {line} is never closed: the record runs to the end of the file"
    return f"unparseable CSV ({exc})"


def _csv_frame(header: list[str], rows: list[tuple[int, str, list[str]]], file: Path) -> pl.DataFrame:
    """All cells as text, an empty cell as null; the raw line rides along for the quarantine."""
    if len(set(header)) != len(header):
        raise SourceReadError(f"{file}: the CSV header names a column twice: {header}")
    _reject_reserved(header, file)
    columns = {name: [fields[i] or None for _, _, fields in rows] for i, name in enumerate(header)}
    return pl.DataFrame(
        {SOURCE_LINE: [line for line, _, _ in rows], QUARANTINE_RAW: [raw for _, raw, _ in rows], **columns},
        schema={SOURCE_LINE: pl.Int64, QUARANTINE_RAW: pl.String, **dict.fromkeys(header, pl.String)},
    )


# --- Parquet and Delta ---


def _read_parquet(source: FileSource, file: Path) -> _FileRead:
    """A Parquet file; a zero-byte one is empty like an empty file of the text formats, not a corrupt one."""
    try:
        empty = file.stat().st_size == 0
    except OSError as exc:
        raise SourceReadError(f"{file}: cannot read the file ({exc.strerror or exc})") from exc
    return _no_records(source, file) if empty else _read_table(source, file, load_parquet)


def _read_delta(source: FileSource, file: Path) -> _FileRead:
    return _read_table(source, file, load_delta)


def _read_table(source: FileSource, file: Path, load: Callable[[Path], pl.DataFrame]) -> _FileRead:
    """A typed table: row ``i`` is number ``i + 1``; a quarantined row's raw text is the row as JSON.

    A file the reader panics on is as unreadable as one it refuses.
    """
    try:
        frame = load(file)
    except PARQUET_ERRORS as exc:
        raise SourceReadError(f"{file}: cannot read as {source.format_of(file)} ({exc})") from exc
    _reject_reserved(frame.columns, file)
    for name, dtype in frame.schema.items():
        if 1 + polars_depth(dtype) > MAX_DEPTH:
            raise SourceReadError(
                f"{file}: column {name!r} nests {polars_depth(dtype)} levels deep ({dtype}); rows are read up to "
                f"{MAX_DEPTH} levels, the row's own included",
                hint="flatten the column, or store it as JSON text and declare it 'json'",
            )
    numbered = frame.with_row_index(SOURCE_LINE, offset=1).with_columns(pl.col(SOURCE_LINE).cast(pl.Int64))
    return _check_frame(numbered, source, raw=partial(_row_json, frame.columns))


def _row_json(columns: list[str], rows: pl.DataFrame) -> pl.Series:
    """The data ``columns`` of quarantined ``rows`` as JSON text.

    polars encodes most types itself but panics on binary values, which are decoded leniently here instead
    (invalid bytes become U+FFFD), as the text formats decode a line that is not UTF-8.
    """
    if not columns:
        return pl.repeat("{}", rows.height, dtype=pl.String, eager=True)
    if not any(dtype == pl.Binary or _holds_binary(dtype) for dtype in rows.select(columns).dtypes):
        return rows.select(pl.struct(columns).struct.json_encode()).to_series()
    texts = [
        json.dumps(row, default=_lenient_text, ensure_ascii=False, separators=(",", ":"))
        for row in rows.select(columns).iter_rows(named=True)
    ]
    return pl.Series(texts, dtype=pl.String)


def _holds_binary(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.List | pl.Array):
        return dtype.inner == pl.Binary or _holds_binary(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(field.dtype == pl.Binary or _holds_binary(field.dtype) for field in dtype.fields)
    return False


def _lenient_text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# --- validating typed or text columns ---


def _raw_column(rows: pl.DataFrame) -> pl.Series:
    """The raw text a text format keeps beside its cells."""
    return rows.get_column(QUARANTINE_RAW)


def _check_frame(frame: pl.DataFrame, source: FileSource, *, raw: Callable[[pl.DataFrame], pl.Series]) -> _FileRead:
    """Vectorized twin of ``_record_problem``: convert declared columns, flag each row's first problem.

    ``raw`` gives the raw text of the quarantined rows (only they are encoded).
    """
    values: list[pl.Series] = []
    cases: list[_Case] = []
    for name, declared in source.columns.items():
        value, column_cases = _check_column(frame, name, declared)
        values.append(value)
        cases.extend(column_cases)
    reason = _first_match(cases, lambda case: pl.lit(case.reason))
    detail = _first_match(cases, lambda case: case.detail)
    judged = frame.with_columns(reason.alias(QUARANTINE_REASON), detail.alias(QUARANTINE_DETAIL))
    bad = pl.col(QUARANTINE_REASON).is_not_null()
    quarantined = judged.filter(bad)
    problems = quarantined.select(SOURCE_LINE, QUARANTINE_REASON, QUARANTINE_DETAIL).with_columns(
        raw(quarantined).alias(QUARANTINE_RAW)
    )
    rows = (
        judged.with_columns(values)
        .filter(~bad)
        .drop(QUARANTINE_REASON, QUARANTINE_DETAIL, QUARANTINE_RAW, strict=False)
    )
    return _FileRead(rows, problems)


def _first_match(cases: list[_Case], pick: Callable[[_Case], pl.Expr]) -> pl.Expr:
    """``pick`` of the first case whose condition holds, null where none does."""
    if not cases:
        return pl.lit(None, pl.String)
    expr = pl.when(cases[0].condition).then(pick(cases[0]))
    for case in cases[1:]:
        expr = expr.when(case.condition).then(pick(case))
    return expr


def _check_column(frame: pl.DataFrame, name: str, declared: str) -> tuple[pl.Series, list[_Case]]:
    """One declared column converted to its type, and the checks (in order) its rows must pass.

    Binary values (Parquet may store text so) are decoded as UTF-8 first and then read like text cells.
    """
    kind, required = declared.rstrip("?"), not declared.endswith("?")
    if name not in frame.columns:
        value = pl.repeat(None, frame.height, dtype=_DTYPES[kind], eager=True).alias(name)
        detail = pl.lit(f"required column {name!r} is missing")
        return value, [_Case(pl.lit(True), "missing_column", detail)] if required else []
    stored = frame.get_column(name)
    cases = [_Case(pl.col(name).is_null(), "null_value", pl.lit(f"required column {name!r} is null"))][:required]
    original = _decode_utf8(stored) if stored.dtype == pl.Binary else stored
    if original is not stored:
        cases.append(
            _Case(
                pl.col(name).is_not_null() & pl.lit(original).is_null(),
                "invalid_utf8",
                pl.lit(f"column {name!r} is not valid UTF-8"),
            )
        )
    if kind == "json":
        value, deep = _json_column(original)
        cases.append(_Case(pl.lit(deep), _TOO_DEEP.reason, pl.lit(_TOO_DEEP.detail)))
    else:
        value = _convert(original, kind)
    wrong = pl.concat_str(pl.lit(f"column {name!r} should be {kind}, got "), _shown(original))
    cases.append(_Case(pl.lit(original).is_not_null() & pl.lit(value).is_null(), "wrong_type", wrong))
    return value.alias(name), cases


def _decode_utf8(binary: pl.Series) -> pl.Series:
    """Binary values as text, null where not UTF-8 (checked by one cast; value by value only if that fails)."""
    try:
        return binary.cast(pl.String)
    except pl.exceptions.PolarsError:
        return pl.Series(binary.name, [_utf8_or_none(value) for value in binary.to_list()], dtype=pl.String)


def _utf8_or_none(value: bytes | None) -> str | None:
    try:
        return None if value is None else value.decode()
    except UnicodeDecodeError:
        return None


def _convert(original: pl.Series, kind: ColumnType) -> pl.Series:
    """The column in its declared type, null where a value does not convert (text parses, types must fit)."""
    target = _DTYPES[kind]
    if original.dtype == pl.String and kind == "bool":
        flags = {"true": True, "false": False}
        return original.str.to_lowercase().replace_strict(flags, default=None, return_dtype=pl.Boolean)
    if original.dtype in (pl.String, pl.Null) or _same_family(original.dtype, kind):
        return original.cast(target, strict=False)
    return pl.repeat(None, original.len(), dtype=target, eager=True)


def _json_column(original: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A ``json`` column as JSON text (null where a text cell is not JSON), and where a value nests too deep."""
    texts = [_json_text(value) for value in original.to_list()]
    deep = pl.Series([text is _TOO_DEEP for text in texts], dtype=pl.Boolean)
    return pl.Series([None if text is _TOO_DEEP else text for text in texts], dtype=pl.String), deep


def _same_family(dtype: pl.DataType, kind: ColumnType) -> bool:
    """Whether a stored type may be cast to the declared one; booleans are not numbers, numbers not text."""
    if kind == "string":
        return isinstance(dtype, pl.Categorical | pl.Enum)
    if kind == "int":
        return dtype.is_integer()
    if kind == "float":
        return dtype.is_integer() or dtype.is_float()
    return dtype == pl.Boolean


def _json_text(value: Any) -> str | _Problem | None:
    """``json.dumps`` of a value; text cells (CSV) must hold JSON and are normalized the same way. A cell nested
    deeper than a record may be (counting the row it sits in) gives ``_TOO_DEEP``."""
    if value is None:
        return None
    if not isinstance(value, str):
        return json.dumps(value, default=str)
    try:
        decoded = _loads(value)
    except RecursionError:
        return _TOO_DEEP
    except ValueError:
        return None
    return _TOO_DEEP if too_deep(value, decoded, levels_above=1) else json.dumps(decoded)


def _shown(original: pl.Series) -> pl.Expr:
    """How a wrong value reads in a detail sentence."""
    if original.dtype == pl.String:
        return pl.format("'{}'", pl.lit(original))
    if original.dtype.is_nested():
        return pl.lit(f"a {original.dtype} value")
    return pl.lit(original).cast(pl.String)


_READERS: dict[Format, Callable[[FileSource, Path], _FileRead]] = {
    "jsonl": _read_jsonl,
    "json": _read_json,
    "csv": _read_csv,
    "parquet": _read_parquet,
    "delta": _read_delta,
}
