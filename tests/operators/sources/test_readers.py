"""Reading sources: typed rows, a quarantine that keeps every bad row, and errors only for unreadable files."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import operators.sources.readers as ingest
from operators.errors import SourceReadError
from operators.sources.file_source import FileSource
from operators.sources.readers import QUARANTINE_SCHEMA, IngestResult, read_source

TEXT_AND_N = {"text": "string", "n": "int"}
META = ["_row_id", "_partition", "_source_file", "_source_line"]


def read(
    tmp_path: Path, name: str, content: bytes | str, columns: dict[str, str], *, key: str | None = None
) -> IngestResult:
    """Write one file under ``tmp_path`` and ingest it as a source rooted there."""
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return ingest_files(tmp_path, columns, [path], key=key)


def ingest_files(root: Path, columns: dict[str, str], files: list[Path], *, key: str | None = None) -> IngestResult:
    return read_source(FileSource(path=str(root), columns=columns), files, partition_key=key)


def jsonl(*records: object) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def problems(result: IngestResult) -> list[tuple[int | None, str, str]]:
    """The quarantine as ``(line, reason, raw)``, the part most tests pin down."""
    return list(result.quarantine.select("_source_line", "_reason", "_raw").iter_rows())


def tag(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()[:8]


def assert_counts_add_up(result: IngestResult) -> None:
    assert result.rows_in == result.rows.height + result.quarantine["_source_line"].count()


# --- clean files, one per format ---


def test_clean_jsonl_gives_typed_rows_with_their_origin(tmp_path: Path) -> None:
    result = read(tmp_path, "a.jsonl", jsonl({"text": "hi", "n": 1}, {"text": "yo", "n": 2}), TEXT_AND_N, key="k1")

    assert result.rows.columns == [*META, "text", "n"]
    assert result.rows.dtypes == [pl.String, pl.String, pl.String, pl.Int64, pl.String, pl.Int64]
    assert result.rows.rows() == [
        (f"{tag('a.jsonl')}-1", "k1", "a.jsonl", 1, "hi", 1),
        (f"{tag('a.jsonl')}-2", "k1", "a.jsonl", 2, "yo", 2),
    ]
    assert result.quarantine.is_empty() and result.quarantine.schema == QUARANTINE_SCHEMA
    assert result.rows_in == 2


def test_clean_jsonl_takes_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_precise(*_: object) -> None:
        raise AssertionError("a clean file should not need the line-by-line path")

    monkeypatch.setattr(ingest, "_read_jsonl_precise", no_precise)
    result = read(tmp_path, "a.jsonl", jsonl(*({"text": f"t{i}", "n": i} for i in range(300))), TEXT_AND_N)
    assert result.rows["n"].to_list() == list(range(300))


def test_fast_and_precise_paths_give_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [{"text": "a", "n": 1, "score": 2, "meta": {"lang": "en"}}, {"text": "b", "n": 2, "score": 2.5}]
    records += [{"text": "c", "n": i, "tags": ["x"]} for i in range(3, 150)]
    records.append({"text": "d", "n": 150, "late": "only here"})  # past polars' default inference window
    columns = {"text": "string", "n": "int", "score": "float?", "flag": "bool?"}
    fast = read(tmp_path, "a.jsonl", jsonl(*records), columns)
    monkeypatch.setattr(ingest, "_read_jsonl_fast", lambda *_: None)
    precise = read(tmp_path, "a.jsonl", jsonl(*records), columns)

    assert fast.rows.equals(precise.rows)
    assert fast.rows.schema == precise.rows.schema
    assert fast.rows.schema["meta"] == pl.Struct({"lang": pl.String})
    assert fast.rows["late"].to_list()[-1] == "only here"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"text": 5, "n": 1}', "wrong_type"),  # polars alone would read the int as the string "5"
        ('{"text": {"x": 1}, "n": 1}', "wrong_type"),
        ('{"text": "a", "n": 1.0}', "wrong_type"),
        ('{"text": "a", "n": 1}{"text": "b", "n": 2}', "malformed_json"),  # pyarrow alone would read two rows
        ('{"text": "a", "n": 1, "text": 7}', "wrong_type"),  # the last duplicate key wins, as in Python
        (' {"text": "a"}', "missing_column"),
        ('{"text": "a", "n": 1, "x": NaN}', "malformed_json"),  # pyarrow alone would read NaN, even in extra columns
        ('{"text": "a", "n": 1}\x0c', "malformed_json"),  # form feed: whitespace to ``strip`` but not to JSON
    ],
)
def test_one_subtle_bad_line_late_in_a_clean_file_is_caught(tmp_path: Path, line: str, reason: str) -> None:
    content = jsonl(*({"text": "t", "n": i} for i in range(1, 200))) + line + "\n"
    result = read(tmp_path, "a.jsonl", content, TEXT_AND_N)

    assert result.rows.height == 199
    assert problems(result) == [(200, reason, line)]


def read_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | str, columns: dict[str, str]
) -> tuple[IngestResult, IngestResult]:
    """``content`` read as usual, then with the fast path turned off, so that the line-by-line path reads it."""
    usual = read(tmp_path, "a.jsonl", content, columns)
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_read_jsonl_fast", lambda *_: None)
        precise = read(tmp_path, "a.jsonl", content, columns)
    return usual, precise


def assert_same(usual: IngestResult, precise: IngestResult) -> None:
    assert usual.rows.schema == precise.rows.schema
    assert usual.rows.equals(precise.rows)
    assert repr(usual.rows.to_dicts()) == repr(precise.rows.to_dicts())  # tells -0.0 from 0.0
    assert usual.quarantine.equals(precise.quarantine) and usual.rows_in == precise.rows_in


def takes_fast_path(tmp_path: Path, content: bytes | str, columns: dict[str, str]) -> bool:
    path = tmp_path / "a.jsonl"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    source = FileSource(path=str(tmp_path), columns=columns)
    return ingest._read_jsonl_fast(path.read_bytes(), source, path) is not None


def test_fast_path_types_extra_columns_as_the_precise_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [
        {"text": "a", "n": 1, "i": 1, "f": 0.5, "mix": 1, "s": "x", "b": True, "none": None, "ints": [1, 2]},
        {"text": "b", "n": 2, "mix": 2.5, "day": "2024-01-31", "lists": [[1], []], "leading": [None, 1]},
        {"text": "c", "n": 3, "nested": {"at": "2024-01-31 10:00:00"}, "objs": [{"k": 1.5}], "": "empty key"},
        {"text": "d", "n": 4, "b": False, "ints": [], "tiny": 5e-324, "day": "not a date", "\u00e9": "escaped"},
    ]
    content = jsonl(*records)  # json.dumps writes the key "é" as the escape "\\u00e9"
    assert takes_fast_path(tmp_path, content, TEXT_AND_N)
    usual, precise = read_both(tmp_path, monkeypatch, content, TEXT_AND_N)

    assert_same(usual, precise)
    assert usual.rows.select(pl.exclude(META, "text", "n")).schema == pl.Schema(
        {"i": pl.Int64, "f": pl.Float64, "mix": pl.Float64, "s": pl.String, "b": pl.Boolean, "none": pl.Null}
        | {"ints": pl.List(pl.Int64), "day": pl.String, "lists": pl.List(pl.List(pl.Int64))}
        | {
            "leading": pl.List(pl.Int64),
            "nested": pl.Struct({"at": pl.String}),
            "objs": pl.List(pl.Struct({"k": pl.Float64})),
        }
        | {"": pl.String, "tiny": pl.Float64, "\u00e9": pl.String}
    )
    assert usual.rows["day"].to_list() == [None, "2024-01-31", None, "not a date"]  # text, not a timestamp


def test_crlf_lines_and_trailing_blank_lines_take_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = jsonl(*({"text": f"t{i}", "n": i} for i in range(50))).replace("\n", "\r\n") + "\r\n \n\n"
    assert takes_fast_path(tmp_path, content, TEXT_AND_N)
    assert_same(*read_both(tmp_path, monkeypatch, content, TEXT_AND_N))


CLEAN = jsonl(*({"text": "t", "n": i, "score": 0.5} for i in range(1, 6)))


@pytest.mark.parametrize(
    ("content", "columns"),
    [
        pytest.param(CLEAN + '{"text": "t", "n": 6, "x": -Infinity}', TEXT_AND_N, id="infinity"),
        pytest.param(CLEAN + '{"text": "t", "n": 6, "x": [99999999999999999999]}', TEXT_AND_N, id="int-beyond-int64"),
        pytest.param(CLEAN + '{"text": "t", "n": 6, "f": 1e400}', TEXT_AND_N, id="float-beyond-double"),
        pytest.param(
            CLEAN + '{"text": "t", "n": 6, "score": 9223372036854775808}', {"score": "float"}, id="big-int-as-float"
        ),
        pytest.param(CLEAN + '{"text": "t", "n": 6, "score": -0}', {"score": "float"}, id="minus-zero-as-float"),
        pytest.param(
            CLEAN + '{"text": "t", "n": 6, "m": {"a": 1}}\n{"text": "t", "n": 7, "m": {"b": 1, "a": 2}}',
            TEXT_AND_N,
            id="object-keys-vary",
        ),
        pytest.param(
            CLEAN.encode() + b'{"text": "t", "n": 6, "x": "caf\xe9"}', TEXT_AND_N, id="latin-1-in-extra-column"
        ),
        pytest.param(CLEAN + '{"text": "t", "n": 6, "x": "\\udc00"}', TEXT_AND_N, id="lone-surrogate"),
        pytest.param(CLEAN + '{"text": "t", "n": 6, "x": [null, null]}', TEXT_AND_N, id="list-of-nulls"),
        pytest.param(CLEAN + '{"text": "t", "n": 6, "x": 1, "x": "one"}', TEXT_AND_N, id="repeated-key"),
        pytest.param(CLEAN + '{"text": "t", "n": 6}\rnull\n', TEXT_AND_N, id="carriage-return-only"),
        pytest.param(CLEAN + '{"text": "t", "n": 6}  \n' + CLEAN, TEXT_AND_N, id="padded-line"),
        pytest.param(CLEAN.encode() + b"\n" * 3 + CLEAN.encode(), TEXT_AND_N, id="blank-lines"),
    ],
)
def test_what_the_fast_path_cannot_vouch_for_is_read_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes, columns: dict[str, str]
) -> None:
    columns = TEXT_AND_N | columns
    assert not takes_fast_path(tmp_path, content, columns)
    assert_same(*read_both(tmp_path, monkeypatch, content, columns))


def test_an_object_across_two_lines_cannot_hide_two_objects_on_one_line(tmp_path: Path) -> None:
    lines = ['{"text": "a", "n": 1, "x":', '{"y": 2}}', '{"text": "b", "n": 3}{"text": "c", "n": 4}']
    result = read(tmp_path, "a.jsonl", CLEAN + "\n".join(lines) + "\n", TEXT_AND_N)  # as many objects as lines

    assert result.rows["_source_line"].to_list() == [1, 2, 3, 4, 5]
    assert [(line, reason) for line, reason, _ in problems(result)] == [(n, "malformed_json") for n in (6, 7, 8)]


def test_extra_columns_follow_first_use_whatever_order_pyarrow_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow infers a file's blocks on several threads and may order the columns by timing (seen on big files)."""
    read_json = ingest._arrow_read_json

    def reversed_columns(*args: object) -> pa.Table:
        table = read_json(*args)
        return table.select(table.column_names[::-1])

    records = [{"text": "a", "n": 1, "b": 1, "a": None}, {"text": "b", "n": 2, "c": 1}, {"text": "c", "n": 3, "z": 1}]
    records.append({"text": "d", "n": 4, "y": 1, "a": 2, "w": 1})  # two keys first used on the last line
    _, precise = read_both(tmp_path, monkeypatch, jsonl(*records), TEXT_AND_N)
    monkeypatch.setattr(ingest, "_arrow_read_json", reversed_columns)
    assert takes_fast_path(tmp_path, jsonl(*records), TEXT_AND_N)
    usual = read(tmp_path, "a.jsonl", jsonl(*records), TEXT_AND_N)

    assert usual.rows.columns == precise.rows.columns == [*META, "text", "n", "b", "a", "c", "z", "y", "w"]
    assert_same(usual, precise)


def test_clean_json_array_numbers_records(tmp_path: Path) -> None:
    result = read(tmp_path, "a.json", json.dumps([{"text": "hi", "n": 1}, {"text": "yo", "n": 2}]), TEXT_AND_N)

    assert result.rows.select("_row_id", "_source_line", "text", "n").rows() == [
        (f"{tag('a.json')}-1", 1, "hi", 1),
        (f"{tag('a.json')}-2", 2, "yo", 2),
    ]


def test_clean_csv_counts_physical_lines_and_casts_cells(tmp_path: Path) -> None:
    content = 'text,n,score,ok,note\nhi,1,2,true,x\n"two\nlines",-3,1.5,False,\n'
    columns = {"text": "string", "n": "int", "score": "float", "ok": "bool"}
    result = read(tmp_path, "a.csv", content, columns)

    assert result.rows.columns == [*META, "text", "n", "score", "ok", "note"]
    assert result.rows.select(pl.exclude("_row_id", "_partition")).rows() == [
        ("a.csv", 2, "hi", 1, 2.0, True, "x"),
        ("a.csv", 3, "two\nlines", -3, 1.5, False, None),
    ]
    assert result.rows.schema["score"] == pl.Float64 and result.rows.schema["ok"] == pl.Boolean
    assert result.rows["_row_id"].to_list() == [f"{tag('a.csv')}-2", f"{tag('a.csv')}-3"]


def test_clean_parquet_numbers_rows(tmp_path: Path) -> None:
    pl.DataFrame({"text": ["hi", "yo"], "n": [1, 2], "extra": [True, False]}).write_parquet(tmp_path / "a.parquet")
    result = ingest_files(tmp_path, TEXT_AND_N, [tmp_path / "a.parquet"])

    assert result.rows.select(pl.exclude("_partition")).rows() == [
        (f"{tag('a.parquet')}-1", "a.parquet", 1, "hi", 1, True),
        (f"{tag('a.parquet')}-2", "a.parquet", 2, "yo", 2, False),
    ]


def test_clean_delta_table_numbers_rows(tmp_path: Path) -> None:
    table = tmp_path / "table"
    pl.DataFrame({"text": ["hi", "yo"], "n": [1, 2]}).write_delta(table)
    source = FileSource(path=str(table), columns=TEXT_AND_N)
    result = read_source(source, source.files(), partition_key=None)

    assert result.rows.select("_source_file", "_source_line", "text", "n").rows() == [
        ("table", 1, "hi", 1),
        ("table", 2, "yo", 2),
    ]


# --- bad rows are quarantined, one reason each ---


def test_bad_jsonl_lines_are_quarantined_with_line_reason_and_raw_text(tmp_path: Path) -> None:
    lines = [
        b'{"text": "good", "n": 1}',  # 1
        b"",  # 2: blank, not a record
        b'{"text": "cut", "n": ',  # 3
        b'{"text": "caf\xe9", "n": 4}',  # 4: latin-1, not UTF-8
        b'{"text": 5, "n": 5}',  # 5
        b'{"n": 6}',  # 6
        b'{"text": null, "n": 7}',  # 7
        b'["text", "n"]',  # 8
        b'{"text": "x", "n": true}',  # 9
        b'{"text": "x", "n": "9"}',  # 10
        b'{"text": "x", "n": 1.5}',  # 11
        b'{"text": "x", "n": 99999999999999999999}',  # 12: beyond int64
        b'{"text": "x", "n": NaN}',  # 13
        b'{"text": "\\ud800", "n": 14}',  # 14: a lone surrogate escape
        b'{"n": "also bad"}',  # 15: only the first problem counts
        b'{"text": "good", "n": 16}',  # 16
    ]
    result = read(tmp_path, "a.jsonl", b"\n".join(lines) + b"\n", TEXT_AND_N)

    assert result.rows.select("_source_line", "text", "n").rows() == [(1, "good", 1), (16, "good", 16)]
    assert problems(result) == [
        (3, "malformed_json", '{"text": "cut", "n": '),
        (4, "invalid_utf8", '{"text": "caf\ufffd", "n": 4}'),
        (5, "wrong_type", '{"text": 5, "n": 5}'),
        (6, "missing_column", '{"n": 6}'),
        (7, "null_value", '{"text": null, "n": 7}'),
        (8, "not_an_object", '["text", "n"]'),
        (9, "wrong_type", '{"text": "x", "n": true}'),
        (10, "wrong_type", '{"text": "x", "n": "9"}'),
        (11, "wrong_type", '{"text": "x", "n": 1.5}'),
        (12, "wrong_type", '{"text": "x", "n": 99999999999999999999}'),
        (13, "malformed_json", '{"text": "x", "n": NaN}'),
        (14, "malformed_json", '{"text": "\\ud800", "n": 14}'),
        (15, "missing_column", '{"n": "also bad"}'),
    ]
    assert result.rows_in == 15
    assert_counts_add_up(result)


def test_quarantine_details_name_file_line_and_column(tmp_path: Path) -> None:
    result = read(tmp_path, "a.jsonl", jsonl({"text": "ok", "n": 1}, {"n": 2}, {"text": "x", "n": "two"}), TEXT_AND_N)

    assert result.quarantine["_detail"].to_list() == [
        "a.jsonl line 2: required column 'text' is missing",
        "a.jsonl line 3: column 'n' should be int, got string \"two\"",
    ]
    assert result.quarantine.select("_partition", "_source_file").unique().rows() == [(None, "a.jsonl")]


def test_bad_json_array_elements_are_quarantined_by_record_number(tmp_path: Path) -> None:
    document = [{"text": "ok", "n": 1}, "just text", {"text": "x", "n": False}, None]
    result = read(tmp_path, "a.json", json.dumps(document), TEXT_AND_N)

    assert result.rows["_source_line"].to_list() == [1]
    assert problems(result) == [
        (2, "not_an_object", '"just text"'),
        (3, "wrong_type", '{"text": "x", "n": false}'),
        (4, "not_an_object", "null"),
    ]
    assert result.quarantine["_detail"][0] == "a.json record 2: expected a JSON object, got string"
    assert_counts_add_up(result)


def test_bad_csv_rows_are_quarantined(tmp_path: Path) -> None:
    content = b"text,n\nok,1\ntoo,many,fields\nx,abc\n,4\n\xff\xfe,5\n\nshort\nok,8\n"
    result = read(tmp_path, "a.csv", content, TEXT_AND_N)

    assert result.rows.select("_source_line", "text", "n").rows() == [(2, "ok", 1), (9, "ok", 8)]
    assert problems(result) == [
        (3, "malformed_csv_row", "too,many,fields"),
        (4, "wrong_type", "x,abc"),
        (5, "null_value", ",4"),
        (6, "invalid_utf8", "\ufffd\ufffd,5"),
        (8, "malformed_csv_row", "short"),
    ]
    assert result.quarantine["_detail"][1] == "a.csv line 4: column 'n' should be int, got 'abc'"
    assert_counts_add_up(result)


def test_csv_missing_a_required_column_quarantines_every_row(tmp_path: Path) -> None:
    result = read(tmp_path, "a.csv", "text\nhi\nyo\n", TEXT_AND_N)

    assert result.rows.is_empty() and result.rows.schema["n"] == pl.Int64
    assert problems(result) == [(2, "missing_column", "hi"), (3, "missing_column", "yo")]


def test_parquet_values_that_do_not_fit_are_quarantined(tmp_path: Path) -> None:
    frame = pl.DataFrame({"text": ["ok", None, "x", "y"], "n": ["1", "2", "three", "4"], "flag": [1, 0, 1, None]})
    frame.write_parquet(tmp_path / "a.parquet")
    result = ingest_files(tmp_path, {"text": "string", "n": "int", "flag": "bool?"}, [tmp_path / "a.parquet"])

    assert result.rows.select("_source_line", "text", "n", "flag").rows() == [(4, "y", 4, None)]
    assert problems(result) == [
        (1, "wrong_type", '{"text":"ok","n":"1","flag":1}'),
        (2, "null_value", '{"text":null,"n":"2","flag":0}'),
        (3, "wrong_type", '{"text":"x","n":"three","flag":1}'),
    ]
    assert result.quarantine["_detail"].to_list()[::2] == [
        "a.parquet row 1: column 'flag' should be bool, got 1",
        "a.parquet row 3: column 'n' should be int, got 'three'",
    ]


# --- empty files, optional and extra columns ---


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_file_is_one_file_level_entry(tmp_path: Path, content: bytes) -> None:
    result = read(tmp_path, "a.jsonl", content, TEXT_AND_N)

    assert result.rows.is_empty() and result.rows.columns == [*META, "text", "n"]
    assert result.quarantine.select("_source_line", "_reason", "_detail").rows() == [
        (None, "empty_file", "a.jsonl: the file is empty (no records)")
    ]
    assert result.rows_in == 0


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    result = read(tmp_path, "a.jsonl", '\n{"text": "a", "n": 1}\n\n  \n{"text": "b", "n": 2}\n\n', TEXT_AND_N)

    assert result.rows["_source_line"].to_list() == [2, 5]
    assert result.rows_in == 2 and result.quarantine.is_empty()


def test_optional_columns_may_be_missing_or_null_but_not_of_another_type(tmp_path: Path) -> None:
    columns = {"text": "string", "score": "float?", "lang": "string?"}
    content = jsonl({"text": "a", "score": 1}, {"text": "b", "score": None}, {"text": "c", "score": "high"})
    result = read(tmp_path, "a.jsonl", content, columns)

    assert result.rows.select("text", "score", "lang").rows() == [("a", 1.0, None), ("b", None, None)]
    assert result.rows.schema["score"] == pl.Float64 and result.rows.schema["lang"] == pl.String
    assert problems(result) == [(3, "wrong_type", '{"text": "c", "score": "high"}')]


def test_json_columns_hold_json_text(tmp_path: Path) -> None:
    columns = {"text": "string", "meta": "json"}
    result = read(tmp_path, "a.jsonl", jsonl({"text": "a", "meta": {"k": [1, 2]}}, {"text": "b", "meta": 3}), columns)
    assert result.rows["meta"].to_list() == ['{"k": [1, 2]}', "3"]

    csv_result = read(tmp_path, "b.csv", 'text,meta\na,"{""k"":[1,2]}"\nb,{oops\n', columns)
    assert csv_result.rows["meta"].to_list() == ['{"k": [1, 2]}']
    assert problems(csv_result) == [(3, "wrong_type", "b,{oops")]


def test_extra_columns_are_carried_and_aligned_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(jsonl({"text": "a", "n": 1, "lang": "en"}))
    (tmp_path / "b.jsonl").write_text(jsonl({"text": "b", "n": 2, "score": 0.5}))
    result = ingest_files(tmp_path, TEXT_AND_N, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"])

    assert result.rows.columns == [*META, "text", "n", "lang", "score"]
    assert result.rows.select("_source_file", "lang", "score").rows() == [
        ("a.jsonl", "en", None),
        ("b.jsonl", None, 0.5),
    ]


def test_no_files_gives_empty_tables_of_the_right_shape() -> None:
    result = read_source(FileSource(path=".", columns=TEXT_AND_N), [], partition_key=None)

    assert result.rows.schema == pl.Schema(
        {"_row_id": pl.String, "_partition": pl.String, "_source_file": pl.String, "_source_line": pl.Int64}
        | {"text": pl.String, "n": pl.Int64}
    )
    assert result.quarantine.schema == QUARANTINE_SCHEMA and result.rows_in == 0


def test_row_ids_are_stable_across_ingestions(tmp_path: Path) -> None:
    content = jsonl({"text": "a", "n": 1}, {"text": "b"}, {"text": "c", "n": 3})
    first = read(tmp_path, "a.jsonl", content, TEXT_AND_N)
    second = read(tmp_path, "a.jsonl", content, TEXT_AND_N, key="other")

    assert first.rows["_row_id"].to_list() == second.rows["_row_id"].to_list()
    assert first.rows["_row_id"].to_list() == [f"{tag('a.jsonl')}-1", f"{tag('a.jsonl')}-3"]


# --- files that cannot be read at all ---


def test_missing_file_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match=r"gone\.jsonl") as info:
        ingest_files(tmp_path, TEXT_AND_N, [tmp_path / "gone.jsonl"])
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_corrupt_parquet_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match=r"bad\.parquet: cannot read as parquet"):
        read(tmp_path, "bad.parquet", b"not parquet at all", TEXT_AND_N)


def test_folder_that_is_not_a_delta_table_raises(tmp_path: Path) -> None:
    (tmp_path / "table").mkdir()
    source = FileSource(path=str(tmp_path), columns=TEXT_AND_N, format="delta")
    with pytest.raises(SourceReadError, match=r"table: cannot read as delta"):
        read_source(source, [tmp_path / "table"], partition_key=None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"text": "a", "n": 1},\n {"text": "b" "n": 2}]', r"a\.json: not a valid JSON document .* line 2 column 15"),
        ('{"text": "a", "n": 1}', r"a\.json: expected a JSON array of objects, got object"),
    ],
)
def test_json_file_that_is_not_an_array_raises(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(SourceReadError, match=message):
        read(tmp_path, "a.json", content, TEXT_AND_N)


def test_reserved_column_in_a_file_raises(tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match="'_row_id' uses a name reserved"):
        read(tmp_path, "a.jsonl", jsonl({"text": "a", "n": 1, "_row_id": "x"}), TEXT_AND_N)


# --- hostile input (issue 10): no crash, no raw error, no silent loss ---


def deep(levels: int, *, open_: str = "[", close: str = "]") -> str:
    return open_ * levels + close * levels


def deep_record(levels: int) -> str:
    """A record whose extra column nests ``levels`` arrays: the record's own object makes it ``levels + 1`` deep."""
    return '{"text": "deep", "n": 0, "x": ' + deep(levels) + "}"


@pytest.mark.parametrize("levels", [40, 1_000, 5_000])
def test_deeply_nested_jsonl_line_is_quarantined_with_its_line(tmp_path: Path, levels: int) -> None:
    content = jsonl({"text": "a", "n": 1}) + deep_record(levels) + "\n" + jsonl({"text": "b", "n": 3})
    result = read(tmp_path, "a.jsonl", content, TEXT_AND_N)

    assert result.rows.select("_source_line", "text").rows() == [(1, "a"), (3, "b")]
    assert [(line, reason) for line, reason, _ in problems(result)] == [(2, "nesting_too_deep")]
    assert result.quarantine["_detail"][0] == "a.jsonl line 2: nested more than 32 levels deep"
    assert_counts_add_up(result)


def test_deep_objects_and_mixed_nesting_are_caught_too(tmp_path: Path) -> None:
    objects = '{"text": "o", "n": 2, "x": ' + '{"a": ' * 2_000 + "1" + "}" * 2_000 + "}"
    mixed = '{"text": "m", "n": 3, "x": ' + '[{"a": ' * 1_500 + "1" + "}]" * 1_500 + "}"
    hidden = '{"text": "h", "n": 4, "x": "]]]]]]", "y": ' + deep(50) + "}"  # closing brackets in a string
    content = jsonl({"text": "a", "n": 1}) + "\n".join([objects, mixed, hidden]) + "\n"
    result = read(tmp_path, "a.jsonl", content, TEXT_AND_N)

    assert result.rows["_source_line"].to_list() == [1]
    assert [(line, reason) for line, reason, _ in problems(result)] == [(n, "nesting_too_deep") for n in (2, 3, 4)]


def test_nesting_up_to_the_limit_is_kept_and_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = jsonl(*({"text": "t", "n": i} for i in range(3))) + deep_record(31) + "\n"  # 32 levels in all
    assert takes_fast_path(tmp_path, content, TEXT_AND_N)
    usual, precise = read_both(tmp_path, monkeypatch, content, TEXT_AND_N)
    assert_same(usual, precise)
    assert usual.rows.height == 4 and usual.quarantine.is_empty()


def read_in_subprocess(path: Path, columns: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Read ``path`` in a child, so that a reader which crashes fails the test instead of ending pytest. The child
    prints the rows kept and the quarantine's reasons, or the ``SourceReadError``."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from operators.errors import SourceReadError\n"
        "from operators.sources.file_source import FileSource\n"
        "from operators.sources.readers import read_source\n"
        "path = Path(sys.argv[1])\n"
        f"source = FileSource(path=str(path.parent), columns={columns!r})\n"
        "try:\n"
        "    result = read_source(source, [path], partition_key=None)\n"
        "    print(result.rows.height, *result.quarantine['_reason'])\n"
        "except SourceReadError as error:\n"
        "    print(error)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120, cwd=Path.cwd()
    )


def test_a_line_deep_enough_to_crash_pyarrow_never_reaches_it(tmp_path: Path) -> None:
    """100,000 nested arrays crash pyarrow's JSON reader (SIGSEGV, the whole process): run it in a subprocess."""
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl({"text": "a", "n": 1}) + deep_record(100_000) + "\n" + jsonl({"text": "b", "n": 3}))
    done = read_in_subprocess(path, {"text": "string", "n": "int"})
    assert (done.returncode, done.stdout.strip()) == (0, "2 nesting_too_deep"), done.stderr[-2000:]


def damaged_parquet() -> bytes:
    """A Parquet file with one byte flipped in a data page (found by the fuzz): its page header claims 2**61
    values, which made ``pl.read_parquet`` reserve that many bytes and abort the whole process."""
    out = pa.BufferOutputStream()
    pq.write_table(pa.table({"text": ["a", None, "ccc"], "n": pa.array([2**64 - 1, 0, 1], pa.uint64())}), out)
    data = bytearray(out.getvalue().to_pybytes())
    data[118] = 21  # the page header's value count, now a huge varint
    return bytes(data)


def test_a_damaged_parquet_file_is_an_error_not_an_abort(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(damaged_parquet())
    done = read_in_subprocess(tmp_path / "a.parquet", {"text": "string?", "n": "int?"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "a.parquet: cannot read as parquet" in done.stdout


def test_a_delta_table_with_a_damaged_data_file_is_an_error_not_an_abort(tmp_path: Path) -> None:
    pl.DataFrame({"text": ["a", None, "ccc"], "n": [1, 0, 1]}).write_delta(tmp_path / "table")
    (data_file,) = (tmp_path / "table").glob("*.parquet")
    data_file.write_bytes(damaged_parquet())
    done = read_in_subprocess(tmp_path / "table", {"text": "string?", "n": "int?"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "table: cannot read as delta" in done.stdout


@pytest.mark.parametrize("levels", [40, 1_000, 100_000])
def test_deep_record_in_a_json_array_loses_no_other_record(tmp_path: Path, levels: int) -> None:
    document = '[{"text": "a", "n": 1},\n' + deep_record(levels) + ',\n{"text": "b", "n": 3}]'
    result = read(tmp_path, "a.json", document, TEXT_AND_N)

    assert result.rows.select("_source_line", "text").rows() == [(1, "a"), (3, "b")]
    assert problems(result) == [(2, "nesting_too_deep", deep_record(levels))]
    assert result.quarantine["_detail"][0] == "a.json record 2: nested more than 32 levels deep"


def test_deep_json_text_in_csv_and_parquet_cells_is_quarantined(tmp_path: Path) -> None:
    columns = {"text": "string", "meta": "json"}
    csv_result = read(tmp_path, "a.csv", f'text,meta\na,"[1]"\nb,{deep(5_000)}\n', columns)
    assert csv_result.rows["meta"].to_list() == ["[1]"]
    assert [(line, reason) for line, reason, _ in problems(csv_result)] == [(3, "nesting_too_deep")]

    pl.DataFrame({"text": ["a", "b"], "meta": ["[1]", deep(5_000)]}).write_parquet(tmp_path / "a.parquet")
    parquet_result = ingest_files(tmp_path, columns, [tmp_path / "a.parquet"])
    assert parquet_result.rows["meta"].to_list() == ["[1]"]
    assert parquet_result.quarantine.select("_source_line", "_reason").rows() == [(2, "nesting_too_deep")]


def test_parquet_binary_columns_are_kept_and_decoded(tmp_path: Path) -> None:
    table = pa.table(
        {
            "text": pa.array([b"ok", b"caf\xc3\xa9", b"\xff\xfe", None, b"fine"], pa.binary()),
            "n": [1, 2, 3, 4, 5],
            "blob": pa.array([b"\x00\x01", b"\xff", b"", None, b"x"], pa.binary()),
        }
    )
    pq.write_table(table, tmp_path / "a.parquet")
    result = ingest_files(tmp_path, {"text": "string", "n": "int"}, [tmp_path / "a.parquet"])

    assert result.rows.select("_source_line", "text", "blob").rows() == [
        (1, "ok", b"\x00\x01"),
        (2, "caf\u00e9", b"\xff"),
        (5, "fine", b"x"),
    ]
    assert result.rows.schema["text"] == pl.String and result.rows.schema["blob"] == pl.Binary
    assert result.quarantine.select("_source_line", "_reason", "_detail").rows() == [
        (3, "invalid_utf8", "a.parquet row 3: column 'text' is not valid UTF-8"),
        (4, "null_value", "a.parquet row 4: required column 'text' is null"),
    ]
    assert json.loads(result.quarantine["_raw"][0]) == {"text": "\ufffd\ufffd", "n": 3, "blob": ""}


def test_parquet_binary_column_with_every_row_valid(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": pa.array([b"a", b"b"], pa.binary())}), tmp_path / "a.parquet")
    result = ingest_files(tmp_path, {"text": "string"}, [tmp_path / "a.parquet"])
    assert result.rows["text"].to_list() == ["a", "b"] and result.quarantine.is_empty()


def test_parquet_binary_number_columns_parse_like_csv_text(tmp_path: Path) -> None:
    pq.write_table(pa.table({"n": pa.array([b"7", b"x"], pa.binary())}), tmp_path / "a.parquet")
    result = ingest_files(tmp_path, {"n": "int"}, [tmp_path / "a.parquet"])
    assert result.rows["n"].to_list() == [7]
    assert result.quarantine.select("_reason", "_detail").rows() == [
        ("wrong_type", "a.parquet row 2: column 'n' should be int, got 'x'")
    ]


def test_quarantined_parquet_rows_of_any_type_keep_their_raw_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "text": pa.array([None], pa.string()),
            "bins": pa.array([[b"\xff", b"a"]], pa.list_(pa.binary())),
            "nested": pa.array([{"b": b"z"}], pa.struct([("b", pa.binary())])),
            "day": pa.array([0], pa.date32()),
            "money": pa.array([1], pa.decimal128(5, 2)),
        }
    )
    pq.write_table(table, tmp_path / "a.parquet")
    result = ingest_files(tmp_path, {"text": "string"}, [tmp_path / "a.parquet"])
    assert problems(result)[0][:2] == (1, "null_value")
    assert json.loads(problems(result)[0][2])["bins"] == ["\ufffd", "a"]


def test_csv_header_that_is_not_utf8_fails_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match=r"a\.csv: the CSV header \(line 1\) is not valid UTF-8"):
        read(tmp_path, "a.csv", b"te\xffxt,n\nhello,1\nworld,2\n", {"text": "string?"})


def test_csv_header_with_an_unbalanced_quote_fails_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match=r"a\.csv: the CSV header \(line 1\) is not valid CSV"):
        read(tmp_path, "a.csv", '"text,n\nhello,1\nworld,2\n', {"text": "string?"})


def test_csv_row_with_an_unbalanced_quote_is_one_entry_holding_the_rest(tmp_path: Path) -> None:
    result = read(tmp_path, "a.csv", 'text,n\nok,1\n"open,2\nlost,3\nalso,4\n', {"text": "string", "n": "int"})

    assert result.rows["_source_line"].to_list() == [2]
    assert problems(result) == [(3, "malformed_csv_row", '"open,2\nlost,3\nalso,4')]
    assert "never closed" in result.quarantine["_detail"][0]
    assert_counts_add_up(result)


def test_csv_quote_followed_by_text_is_a_malformed_row_not_a_guess(tmp_path: Path) -> None:
    result = read(tmp_path, "a.csv", 'text,n\n"a"x,1\nok,2\n', TEXT_AND_N)
    assert result.rows["text"].to_list() == ["ok"]
    assert [(line, reason) for line, reason, _ in problems(result)] == [(2, "malformed_csv_row")]


def test_one_column_csv_does_not_swallow_lines_into_an_open_quote(tmp_path: Path) -> None:
    result = read(tmp_path, "a.csv", 'text\nok\n"open\nlost\n', {"text": "string"})
    assert result.rows["text"].to_list() == ["ok"]
    assert [(line, reason) for line, reason, _ in problems(result)] == [(3, "malformed_csv_row")]


LONG = "x" * 200_000


@pytest.mark.parametrize("name", ["a.jsonl", "a.json", "a.csv", "a.parquet"])
def test_a_cell_longer_than_pythons_csv_limit_is_kept_from_every_format(tmp_path: Path, name: str) -> None:
    frame = pl.DataFrame({"text": [LONG, "short"], "n": [1, 2]})
    path = tmp_path / name
    {
        "a.jsonl": lambda: path.write_text(jsonl(*frame.to_dicts())),
        "a.json": lambda: path.write_text(json.dumps(frame.to_dicts())),
        "a.csv": lambda: frame.write_csv(path),
        "a.parquet": lambda: frame.write_parquet(path),
    }[name]()
    result = ingest_files(tmp_path, TEXT_AND_N, [path])
    assert result.rows["text"].to_list() == [LONG, "short"] and result.quarantine.is_empty()


def test_zero_byte_parquet_is_an_empty_file_like_the_other_formats(tmp_path: Path) -> None:
    for name in ("a.jsonl", "a.json", "a.csv", "a.parquet"):
        (tmp_path / name).write_bytes(b"")
    files = sorted(tmp_path.iterdir())
    result = ingest_files(tmp_path, TEXT_AND_N, files)

    assert result.rows.is_empty() and result.rows_in == 0
    assert result.quarantine.select("_source_file", "_source_line", "_reason").rows() == [
        (name, None, "empty_file") for name in ("a.csv", "a.json", "a.jsonl", "a.parquet")
    ]


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("a.csv", lambda p: p.write_text("text,n\n")),
        ("a.json", lambda p: p.write_text("[]")),
        ("a.parquet", lambda p: pl.DataFrame({"text": [], "n": []}).write_parquet(p)),
    ],
)
def test_a_file_with_no_records_is_reported_whatever_its_format(tmp_path: Path, name: str, write) -> None:
    write(tmp_path / name)
    result = ingest_files(tmp_path, TEXT_AND_N, [tmp_path / name])
    assert result.quarantine.select("_source_file", "_reason").rows() == [(name, "empty_file")]


def test_broken_links_in_a_source_folder_are_quarantined_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "ok.jsonl").write_text(jsonl({"text": "a", "n": 1}))
    (tmp_path / "dangling.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    (tmp_path / "loop.jsonl").symlink_to(tmp_path / "loop.jsonl")
    os.mkfifo(tmp_path / "pipe.jsonl")  # reading it would block for ever
    source = FileSource(path=str(tmp_path), columns=TEXT_AND_N)

    assert source.partition_keys() == ["dangling.jsonl", "loop.jsonl", "ok.jsonl", "pipe.jsonl"]
    result = read_source(source, source.files(), partition_key=None)
    assert result.rows["_source_file"].to_list() == ["ok.jsonl"]
    assert result.quarantine.select("_source_file", "_source_line", "_reason", "_detail").rows() == [
        (
            "dangling.jsonl",
            None,
            "broken_link",
            f"dangling.jsonl: a symbolic link to {tmp_path}/nowhere.jsonl, which does not exist",
        ),
        (
            "loop.jsonl",
            None,
            "broken_link",
            f"loop.jsonl: a symbolic link to {tmp_path}/loop.jsonl, which loops back on itself",
        ),
        ("pipe.jsonl", None, "not_a_regular_file", "pipe.jsonl: not a regular file (a FIFO), so it is not read"),
    ]
    assert result.rows_in == 1


def test_a_folder_holding_only_broken_links_is_still_reported(tmp_path: Path) -> None:
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    source = FileSource(path=str(tmp_path), columns=TEXT_AND_N)
    result = read_source(source, source.files(), partition_key=None)
    assert result.quarantine["_reason"].to_list() == ["broken_link"]


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF32_LE, "utf-32-le")],
)
@pytest.mark.parametrize("name", ["a.jsonl", "a.json", "a.csv"])
def test_text_files_with_a_utf16_or_utf32_byte_order_mark_are_read(
    tmp_path: Path, bom: bytes, codec: str, name: str
) -> None:
    text = {
        "a.jsonl": jsonl({"text": "caf\u00e9", "n": 1}, {"text": "\u4e2d", "n": 2}),
        "a.json": json.dumps([{"text": "caf\u00e9", "n": 1}, {"text": "\u4e2d", "n": 2}]),
        "a.csv": "text,n\ncaf\u00e9,1\n\u4e2d,2\n",
    }[name]
    result = read(tmp_path, name, bom + text.encode(codec), TEXT_AND_N)
    assert result.rows.select("_source_line", "text", "n").rows()[1][1:] == ("\u4e2d", 2)
    assert result.quarantine.is_empty()


def test_a_byte_order_mark_on_bytes_of_another_encoding_fails_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(
        SourceReadError, match=r"a\.jsonl: starts with a UTF-16 byte-order mark but is not valid UTF-16"
    ):
        read(tmp_path, "a.jsonl", codecs.BOM_UTF16_LE + b'{"n": 1}\n', TEXT_AND_N)  # an odd number of bytes
