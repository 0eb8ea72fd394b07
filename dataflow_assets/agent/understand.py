"""Understand the user's input: its files, format and column types, read with the project's own readers.

The columns are inferred from a sample (polars' type inference on the first rows), then the first file is read
through :func:`operators.sources.readers.read_source` with those declarations, so the generated pipeline's
``FileSource`` is one the readers accept and the planner sees real rows.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from operators.errors import DataflowError
from operators.sources.file_source import _FORMAT_BY_SUFFIX, FileSource
from operators.sources.parquet_file import PARQUET_ERRORS, load_parquet
from operators.sources.readers import read_source

SAMPLE_ROWS = 200
"""Rows read to infer the column types."""


@dataclass(frozen=True)
class InputSchema:
    path: str
    pattern: str
    columns: dict[str, str]
    """Column -> FileSource type (``string``, ``int``, ``float``, ``bool``, ``json``; ``?`` when nulls were seen)."""
    sample: list[dict[str, Any]]
    """A few rows as read by the readers (data columns only)."""
    files: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def source(self, path: str | None = None) -> FileSource:
        return FileSource(path=path or self.path, pattern=self.pattern, columns=self.columns)


def understand_input(folder: Path | str, *, show: int = 3) -> InputSchema:
    """The schema and a few rows of the files in ``folder`` (or of one file)."""
    root = Path(folder)
    if not root.exists():
        raise DataflowError(f"input {root} does not exist", hint="give --input a folder of JSONL, JSON, CSV or Parquet")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in _FORMAT_BY_SUFFIX)
    if not files:
        raise DataflowError(
            f"input folder {root} has no data files", hint=f"supported suffixes: {', '.join(_FORMAT_BY_SUFFIX)}"
        )
    suffix = Counter(p.suffix.lower() for p in files).most_common(1)[0][0]
    files = [p for p in files if p.suffix.lower() == suffix]
    fmt = _FORMAT_BY_SUFFIX[suffix]
    try:
        frame = _head(files[0], fmt)
    except PARQUET_ERRORS as exc:
        raise DataflowError(
            f"{files[0]}: cannot read as {fmt} ({exc})",
            hint="the agent reads the first file's first rows to learn the columns; repair or remove that file",
        ) from exc
    columns = {name: _column_type(frame[name]) for name in frame.columns if not name.startswith("_")}
    if not columns:
        raise DataflowError(f"{files[0]}: no columns found", hint="the first rows must be records with named fields")
    pattern = (
        files[0].name
        if root.is_file()
        else f"**/*{suffix}"
        if len(files) > 1 and _nested(root, files)
        else f"*{suffix}"
    )
    schema = InputSchema(str(root), pattern, columns, [], len(files))
    read = read_source(schema.source(), [files[0]], partition_key=None)
    rows = read.rows.select(list(columns)).head(show)
    return InputSchema(schema.path, pattern, columns, rows.to_dicts(), len(files))


def _nested(root: Path, files: list[Path]) -> bool:
    return any(p.parent != root for p in files)


def _head(file: Path, fmt: str) -> pl.DataFrame:
    if fmt == "jsonl":
        with file.open("rb") as handle:
            lines = [line for _, line in zip(range(SAMPLE_ROWS), handle, strict=False) if line.strip()]
        return pl.read_ndjson(io.BytesIO(b"".join(lines)))
    if fmt == "json":
        return pl.read_json(file).head(SAMPLE_ROWS)
    if fmt == "csv":
        return pl.read_csv(file, n_rows=SAMPLE_ROWS, infer_schema_length=SAMPLE_ROWS)
    return load_parquet(file, n_rows=SAMPLE_ROWS)


def _column_type(series: pl.Series) -> str:
    dtype = series.dtype
    if dtype == pl.String:
        kind = "string"
    elif dtype == pl.Boolean:
        kind = "bool"
    elif dtype.is_integer():
        kind = "int"
    elif dtype.is_float():
        kind = "float"
    else:
        kind = "json"
    return f"{kind}?" if series.null_count() or dtype == pl.Null else kind
