"""Source declarations: where a pipeline's rows come from and which columns they must have.

A source is a specification, not a reader: it lists its files and declares its columns so that a pipeline can be
checked before anything runs. Reading (and quarantining bad rows) is ``operators.sources.readers``'s job.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from operators.columns import PARTITION, ROW_ID, SOURCE_FILE, SOURCE_LINE
from operators.errors import DataflowError, SourceReadError
from operators.tracing import current_tracer

if TYPE_CHECKING:
    from operators.sources.readers import IngestResult

ColumnType = Literal["string", "int", "float", "bool", "json"]
Format = Literal["jsonl", "json", "csv", "parquet", "delta"]

_FORMAT_BY_SUFFIX: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
}


def _is_delta_table(path: Path) -> bool:
    return (path / "_delta_log").is_dir()


class FileSource(BaseModel):
    """Rows read from JSONL, JSON (an array of objects), CSV, Parquet files or a Delta table.

    ``columns`` declares the columns rows must have, with their type; a type ending in ``?`` marks a column that
    may be missing or null. Other columns in the files are carried along.

    With ``partitioned=True`` every file is a partition of its own, so a shard is materialized and backfilled on
    its own; the partitions are the files found when the pipeline is compiled. With ``partitioned="dynamic"`` they
    are registered as files arrive (by a sensor, or by the CLI before a run), so a long-running Dagster deployment
    picks up new shards without reloading its code.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="A file, a folder of files, or a Delta table's folder")
    columns: dict[str, str] = Field(description="Declared columns and their types, e.g. {'text': 'string'}")
    pattern: str = Field("*", description="Glob for the files inside a folder, e.g. '*.jsonl'")
    format: Format | Literal["auto"] = Field("auto", description="File format; 'auto' decides by file suffix")
    partitioned: bool | Literal["dynamic"] = Field(
        False, description="Make every file a partition of its own: True (files found at compile time) or 'dynamic'"
    )

    @field_validator("columns")
    @classmethod
    def _known_types(cls, columns: dict[str, str]) -> dict[str, str]:
        if not columns:
            raise DataflowError("FileSource.columns must declare at least one column")
        for name, declared in columns.items():
            if declared.rstrip("?") not in ColumnType.__args__:
                raise DataflowError(
                    f"FileSource.columns[{name!r}]: unknown type {declared!r}",
                    hint=f"use one of {', '.join(ColumnType.__args__)} (append '?' for optional)",
                )
            if name.startswith("_"):
                raise DataflowError(f"FileSource.columns[{name!r}]: names starting with '_' are reserved")
        return columns

    def required_columns(self) -> dict[str, ColumnType]:
        return {name: t for name, t in self.columns.items() if not t.endswith("?")}

    def column_types(self) -> dict[str, ColumnType]:
        return {name: t.rstrip("?") for name, t in self.columns.items()}

    def output_columns(self) -> list[str]:
        return [ROW_ID, PARTITION, SOURCE_FILE, SOURCE_LINE, *self.columns]

    def files(self) -> list[Path]:
        """The input files, sorted; a Delta table counts as one file. Fails clearly when there are none.

        Every path the pattern matches is listed except folders that are not Delta tables: also broken symbolic
        links and FIFOs, which the reader reports as unreadable instead of leaving them out without a word.
        """
        root = Path(self.path)
        if not root.exists():
            raise SourceReadError(f"source path {root} does not exist")
        if not root.is_dir() or _is_delta_table(root):
            return [root]
        found = sorted(p for p in root.glob(self.pattern) if not p.is_dir() or _is_delta_table(p))
        if not found:
            raise SourceReadError(f"source folder {root} has no files matching {self.pattern!r}")
        return found

    def relative_name(self, file: Path) -> str:
        """The name a file goes by in partitions and lineage: its path relative to the source folder."""
        root = Path(self.path)
        return file.name if root == file else file.relative_to(root).as_posix()

    def partition_keys(self) -> list[str]:
        return [self.relative_name(f) for f in self.files()]

    def format_of(self, file: Path) -> Format:
        if self.format != "auto":
            return self.format
        if _is_delta_table(file):
            return "delta"
        if file.suffix.lower() not in _FORMAT_BY_SUFFIX:
            raise SourceReadError(
                f"{file}: cannot tell the format from the suffix {file.suffix!r}",
                hint=f"set format= to one of {', '.join(Format.__args__)}",
            )
        return _FORMAT_BY_SUFFIX[file.suffix.lower()]

    def read(self, files: list[Path], *, partition_key: str | None) -> IngestResult:
        """Read ``files`` into typed rows and a quarantine of the bad ones; subclasses (documents) read their own way,
        so that the compiler and ``Pipeline.run`` read any source with this one call."""
        from operators.sources.readers import read_source  # the readers import this module

        return read_source(self, files, partition_key=partition_key)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def summary(self) -> str:
        partitions = {True: ", one partition per file", "dynamic": ", one partition per file as files arrive"}
        return f"source: {self.pattern} in {self.path}{partitions.get(self.partitioned, '')}; bad rows quarantined"

    def column_docs(self) -> dict[str, str]:
        return {
            ROW_ID: "stable row id: a hash of the file name and the line",
            SOURCE_FILE: "the file the row was read from",
            SOURCE_LINE: "its line (JSONL, CSV), record (JSON) or row (Parquet, Delta)",
            **{name: f"declared column ({declared})" for name, declared in self.columns.items()},
        }

    is_source: ClassVar[bool] = True

    def describe(self) -> dict[str, Any]:
        return {
            "operator": "source",
            "category": "source",
            "params": self.model_dump(mode="json"),
            "keys": {},
        }

    generates_rows: ClassVar[bool] = False

    def __call__(self) -> Any:
        return current_tracer().record_source(self)
