"""``DocumentSource``: a folder of PDF, HTML, DOCX, Markdown and text files read into rows of clean text.

A row is a page of a PDF, or a whole document for the formats without pages. Every row says where its text is:
``_source_file``, ``page`` (also ``_source_line``, so lineage shows it), ``start``/``end`` (its place in the
document's text: the pages' texts joined by a blank line), the document's ``title`` and the ``headings`` that begin
in it (JSON: level, text and offset in the document's text). Chunkers cut a document's rows into passages that keep
these offsets, so a QA pair made from a passage leads back to the exact characters of the file.

It is a :class:`~operators.sources.file_source.FileSource` with fixed columns: the same folder, glob and
partitioning (a partition per file, static or dynamic), read by ``read()`` instead of the table readers. A file or
page that gives no text (encrypted, corrupt, scanned without a text layer, an unknown suffix) is quarantined with
its reason, like a bad row of a table source; extraction itself is ``operators.sources.document_text``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import Field, field_validator

from operators.columns import (
    PARTITION,
    QUARANTINE_DETAIL,
    QUARANTINE_RAW,
    QUARANTINE_REASON,
    ROW_ID,
    SOURCE_FILE,
    SOURCE_LINE,
)
from operators.errors import DataflowError, SourceReadError
from operators.sources.document_text import DocumentFormat, FileProblem, extract
from operators.sources.file_source import FileSource
from operators.sources.readers import QUARANTINE_SCHEMA, IngestResult, row_tag

DOCUMENT_COLUMNS = {
    "text": "string",
    "title": "string",
    "page": "int?",
    "start": "int",
    "end": "int",
    "headings": "json",
    "format": "string",
}
"""The columns of every document row (``headings`` is JSON text: a list of {level, text, start})."""

SUFFIXES: dict[str, DocumentFormat] = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}

ROW_SCHEMA = pl.Schema(
    {
        ROW_ID: pl.String,
        PARTITION: pl.String,
        SOURCE_FILE: pl.String,
        SOURCE_LINE: pl.Int64,
        "text": pl.String,
        "title": pl.String,
        "page": pl.Int64,
        "start": pl.Int64,
        "end": pl.Int64,
        "headings": pl.String,
        "format": pl.String,
    }
)


class DocumentSource(FileSource):
    """Documents (PDF, HTML, DOCX, Markdown, text) as rows of clean text with file, page, offsets and headings.

    One row per PDF page, one per document for the other formats; unreadable files and pages are quarantined
    with their reason (``encrypted``, ``corrupt_file``, ``no_text_layer``, ``empty_page``, ``garbled_text``,
    ``no_main_text``, ``invalid_utf8``, ``unsupported_format``, ``empty_file``).
    """

    columns: dict[str, str] = Field(
        default_factory=lambda: dict(DOCUMENT_COLUMNS), description="The document columns (fixed)"
    )
    format: DocumentFormat | Literal["auto"] = Field(
        "auto", description="Document format; 'auto' decides by suffix (.pdf .html .htm .docx .md .txt)"
    )

    @field_validator("columns")
    @classmethod
    def _fixed_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        if columns != DOCUMENT_COLUMNS:
            raise DataflowError(
                "DocumentSource.columns are fixed", hint=f"leave them out; rows have {', '.join(DOCUMENT_COLUMNS)}"
            )
        return columns

    def format_of(self, file: Path) -> DocumentFormat:
        if self.format != "auto":
            return self.format
        if file.suffix.lower() not in SUFFIXES:
            raise SourceReadError(
                f"{file}: not a document suffix {file.suffix!r}",
                hint=f"use one of {', '.join(SUFFIXES)}, set format=, or narrow pattern=",
            )
        return SUFFIXES[file.suffix.lower()]

    def summary(self) -> str:
        partitions = {True: ", one partition per file", "dynamic": ", one partition per file as files arrive"}
        return (
            f"source: documents ({self.pattern}) in {self.path}{partitions.get(self.partitioned, '')}; "
            "a row per page, unreadable files and pages quarantined"
        )

    def column_docs(self) -> dict[str, str]:
        return {
            ROW_ID: "stable row id: a hash of the file name and the page",
            SOURCE_FILE: "the document the text was extracted from",
            SOURCE_LINE: "the page (1 for formats without pages)",
            "text": "the page's (or document's) clean text",
            "title": "the document's title (metadata, else its first heading, else the file name)",
            "page": "1-based PDF page; null for formats without pages",
            "start": "offset of the text in the document's text (pages joined by a blank line)",
            "end": "offset just past the text in the document's text",
            "headings": "JSON list of the headings beginning here: level, text, start (offset in the document)",
            "format": "pdf, html, docx, markdown or text",
        }

    def read(self, files: list[Path], *, partition_key: str | None) -> IngestResult:
        """Extract every file; rows and quarantine entries are stamped with file, partition and page."""
        rows: list[dict] = []
        problems: list[dict] = []
        for file in files:
            file_rows, file_problems = self._read_file(file, partition_key)
            rows += file_rows
            problems += file_problems
        quarantine = pl.DataFrame(problems, schema=QUARANTINE_SCHEMA, orient="row")
        frame = pl.DataFrame(rows, schema=ROW_SCHEMA, orient="row")
        return IngestResult(frame, quarantine, frame.height + quarantine[SOURCE_LINE].count())

    def _read_file(self, file: Path, partition_key: str | None) -> tuple[list[dict], list[dict]]:
        name = self.relative_name(file)

        def problem(page: int | None, reason: str, detail: str, raw: str | None) -> dict:
            row_id = None if page is None else f"{row_tag(name)}-{page}"
            return {
                ROW_ID: row_id,
                PARTITION: partition_key,
                SOURCE_FILE: name,
                SOURCE_LINE: page,
                QUARANTINE_REASON: reason,
                QUARANTINE_DETAIL: f"{name}: {detail}",
                QUARANTINE_RAW: raw,
            }

        if self.format == "auto" and file.suffix.lower() not in SUFFIXES:
            detail = f"no document format has the suffix {file.suffix!r} (known: {', '.join(SUFFIXES)})"
            return [], [problem(None, "unsupported_format", detail, None)]
        fmt = self.format_of(file)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise SourceReadError(f"{file}: cannot read the file ({error.strerror or error})") from error
        try:
            extracted = extract(file, data, fmt)
        except FileProblem as failure:
            return [], [problem(None, failure.reason, failure.detail, failure.raw)]
        rows = []
        for page, (start, end) in zip(extracted.pages, extracted.offsets(), strict=True):
            number = page.number or 1
            inside = [vars(h) for h in extracted.headings if start <= h.start < end]
            rows.append(
                {
                    ROW_ID: f"{row_tag(name)}-{number}",
                    PARTITION: partition_key,
                    SOURCE_FILE: name,
                    SOURCE_LINE: number,
                    "text": page.text,
                    "title": extracted.title,
                    "page": page.number,
                    "start": start,
                    "end": end,
                    "headings": json.dumps(inside, ensure_ascii=False),
                    "format": fmt,
                }
            )
        return rows, [problem(p.page, p.reason, p.detail, p.raw) for p in extracted.problems]
