"""What the chunkers share: documents rebuilt from their rows, tokens and sentences with offsets, packing, and the
chunk rows with their provenance.

A chunker sees a document as its rows (pages) laid at their offsets (``start``/``end`` from the document source),
so a chunk may cross a page break and its ``start``/``end`` are offsets in the *document's* text: the chunk's text is
exactly ``document_text[start:end]``, and its parents are the page rows it overlaps. Rows without offsets (any text
table) are documents of their own. Tokens are whitespace-separated words (``\\S+``): a tokenizer-free count that is
stable across models; all-MiniLM-L6-v2 truncates at 256 word pieces, about 180-200 English words, which is why the
chunkers default to 180 words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from operators.base import Generator, Read, Write
from operators.columns import PARENT_IDS, PARTITION, ROW_ID, SOURCE_FILE

Span = tuple[int, int]

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*(?:[-*•|#]|\d+[.)]\s))")
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|No|Fig|Eq|vs|etc|approx|e\.g|i\.e|cf)|\b[A-Z])\.$")

CHUNK_SCHEMA = {
    SOURCE_FILE: pl.String,
    "title": pl.String,
    "format": pl.String,
    "section": pl.String,
    "page_start": pl.Int64,
    "page_end": pl.Int64,
    "start": pl.Int64,
    "end": pl.Int64,
    "chunk_index": pl.Int64,
}
"""Provenance columns of every chunk row (the chunk's text column is the chunker's ``output_key``)."""

CHUNK_DOCS = {
    SOURCE_FILE: "the document the chunk was cut from",
    "section": "the heading path in force where the chunk starts ('Chapter > Section')",
    "page_start": "first page the chunk covers (null for formats without pages)",
    "page_end": "last page the chunk covers",
    "start": "offset of the chunk in the document's text",
    "end": "offset just past the chunk in the document's text",
    "chunk_index": "the chunk's number within its document, from 0",
}


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    start: int


@dataclass
class Document:
    """One document's text rebuilt from its rows, with the rows' spans, pages and the headings."""

    key: str
    text: str
    rows: list[tuple[str, int, int, int | None]]
    """(row id, start, end, page) of every row, in order."""
    headings: list[Heading] = field(default_factory=list)
    carried: dict[str, object] = field(default_factory=dict)

    def parents(self, span: Span) -> list[str]:
        return [row_id for row_id, start, end, _ in self.rows if start < span[1] and span[0] < end] or [self.rows[0][0]]

    def pages(self, span: Span) -> tuple[int | None, int | None]:
        pages = [page for _, start, end, page in self.rows if start < span[1] and span[0] < end and page is not None]
        return (min(pages), max(pages)) if pages else (None, None)

    def section(self, position: int) -> str:
        """The heading path in force at ``position``: the last heading of each level above it."""
        path: list[Heading] = []
        for heading in self.headings:
            if heading.start > position:
                break
            path = [h for h in path if h.level < heading.level] + [heading]
        return " > ".join(h.text for h in path)


def documents(df: pl.DataFrame, text_key: str) -> list[Document]:
    """The frame's documents: rows grouped by ``_source_file`` and placed at their ``start`` (rows without offsets
    or file are documents of their own)."""
    has_offsets = {"start", "end", SOURCE_FILE}.issubset(df.columns)
    found: dict[str, Document] = {}
    for row in df.iter_rows(named=True):
        text = row[text_key] or ""
        key = row[SOURCE_FILE] if has_offsets else row[ROW_ID]
        start = row["start"] if has_offsets else 0
        document = found.get(key)
        if document is None:
            carried = {name: row.get(name) for name in (PARTITION, SOURCE_FILE, "title", "format") if name in row}
            document = found[key] = Document(key, "", [], carried=carried)
        # Lay the row at its offset; a gap (the page separator, or a quarantined page) is filled with line breaks.
        document.text += "\n" * max(0, start - len(document.text))
        start = len(document.text)
        document.text += text
        document.rows.append((row[ROW_ID], start, len(document.text), row.get("page")))
        for heading in json.loads(row["headings"]) if row.get("headings") else []:
            document.headings.append(Heading(int(heading["level"]), heading["text"], int(heading["start"])))
    for document in found.values():
        document.headings.sort(key=lambda h: h.start)
    return list(found.values())


def sorted_by_offset(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(SOURCE_FILE, "start") if {"start", SOURCE_FILE}.issubset(df.columns) else df


def words(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans in ``text[start:end]``: ends at ., ! or ? before a capital or digit (not after a common
    abbreviation or an initial), at blank lines, and before list items, table rows and headings. A regex, not a
    trained splitter (NLTK's punkt must be downloaded): good on edited prose, rough on everything else."""
    end = len(text) if end is None else end
    spans, begin = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        if _ABBREVIATION.search(text, begin, match.start()):
            continue
        spans.append((begin, match.start()))
        begin = match.end()
    spans.append((begin, end))
    return [trimmed for span in spans if (trimmed := trim(text, span))]


def trim(text: str, span: Span) -> Span | None:
    """The span without surrounding whitespace; None when nothing is left."""
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def by_tokens(text: str, span: Span, size: int, overlap: int) -> list[Span]:
    """Windows of ``size`` words, each starting ``size - overlap`` words after the previous one."""
    tokens = words(text, *span)
    if not tokens:
        return []
    step, windows = size - overlap, []
    for first in range(0, len(tokens), step):
        window = tokens[first : first + size]
        windows.append((window[0][0], window[-1][1]))
        if first + size >= len(tokens):
            break
    return windows


def pack(text: str, units: list[Span], max_tokens: int, overlap_units: int = 0) -> list[Span]:
    """Consecutive units (sentences) packed into chunks of at most ``max_tokens`` words, the last
    ``overlap_units`` units of a chunk repeated at the start of the next; a unit longer than ``max_tokens`` is cut
    into word windows of its own."""
    counts = [len(words(text, *unit)) for unit in units]
    chunks: list[Span] = []
    first = 0
    while first < len(units):
        if counts[first] > max_tokens:
            chunks += by_tokens(text, units[first], max_tokens, 0)
            first += 1
            continue
        last, total = first, counts[first]
        while last + 1 < len(units) and total + counts[last + 1] <= max_tokens:
            last += 1
            total += counts[last]
        chunks.append((units[first][0], units[last][1]))
        if last + 1 >= len(units):
            break
        following = max(first + 1, last + 1 - overlap_units)
        # Overlap only while the next unit still fits beside it: a chunk of nothing but repeated units is waste.
        if sum(counts[following : last + 2]) > max_tokens:
            following = last + 1
        first = following
    return chunks


def sections(document: Document) -> list[Span]:
    """The document cut at every heading: each section from its heading to the next one."""
    bounds = sorted({0, *(h.start for h in document.headings if 0 <= h.start < len(document.text))})
    return [
        span
        for a, b in zip(bounds, [*bounds[1:], len(document.text)], strict=True)
        if (span := trim(document.text, (a, b)))
    ]


def chunk_rows(documents: list[Document], spans: Callable[[Document], list[Span]], output_key: str) -> pl.DataFrame:
    """One row per chunk: its text (exactly ``document.text[start:end]``), its parents and its provenance."""
    rows = []
    for document in documents:
        for index, span in enumerate(spans(document)):
            page_start, page_end = document.pages(span)
            rows.append(
                {
                    **{k: v for k, v in document.carried.items() if k in (PARTITION, *CHUNK_SCHEMA)},
                    SOURCE_FILE: document.carried.get(SOURCE_FILE, document.key),
                    "section": document.section(span[0]),
                    "page_start": page_start,
                    "page_end": page_end,
                    "start": span[0],
                    "end": span[1],
                    "chunk_index": index,
                    output_key: document.text[span[0] : span[1]],
                    PARENT_IDS: document.parents(span),
                }
            )
    schema = {**CHUNK_SCHEMA, output_key: pl.String, PARENT_IDS: pl.List(pl.String)}
    if any(PARTITION in document.carried for document in documents):
        schema = {PARTITION: pl.String, **schema}
    return pl.DataFrame(rows, schema=schema, orient="row")


def output_columns(available: list[str], output_key: str) -> list[str]:
    partition = [PARTITION] if PARTITION in available else []
    return [ROW_ID, PARENT_IDS, *partition, *CHUNK_SCHEMA, output_key]


class _Chunker(Generator):
    """Base of the chunkers: documents in, one new row per chunk out (see the module docstring). A subclass says
    where its chunks are (``spans``)."""

    key_docs = {"input_key": "the document (page) text", "output_key": "the chunk's text", **CHUNK_DOCS}

    def spans(self, document: Document) -> list[Span]:
        raise NotImplementedError

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        return output_columns(available, keys["output_key"])

    def generate(self, df: pl.DataFrame, *, input_key: Read = "text", output_key: Write = "chunk") -> pl.DataFrame:
        return chunk_rows(documents(sorted_by_offset(df), input_key), self.spans, output_key)
