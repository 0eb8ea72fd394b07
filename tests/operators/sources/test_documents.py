"""The document source: real PDF, HTML, DOCX, Markdown and text files in, clean text with exact provenance out;
unreadable files and pages quarantined with their reason."""

from __future__ import annotations

import difflib
import json
import random
import re
import shutil
from pathlib import Path

import docx
import polars as pl
import pytest

from dataflow_assets.knowledge.pdf_writer import PdfPage, wrap, write_pdf
from dataflow_assets.knowledge.samples import SAMPLE_DOCUMENTS
from operators.sources.document_text import PAGE_SEPARATOR
from operators.sources.documents import DocumentSource
from operators.sources.readers import IngestResult

WORDS = [
    "harbour",
    "tide",
    "granite",
    "keeper",
    "lantern",
    "estuary",
    "quay",
    "pier",
    "bore",
    "ferry",
    "register",
    "basin",
    "mole",
    "chart",
    "flood",
    "neap",
]


def prose(seed: int, paragraphs: int, sentences: int = 4) -> list[str]:
    """Deterministic paragraphs of made-up sentences (with numbers and punctuation), a reference text."""
    rng = random.Random(seed)

    def sentence() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
        words[rng.randrange(len(words))] = str(rng.randint(2, 1999))
        return " ".join(words).capitalize() + rng.choice([".", ".", "?", ";"])

    return [" ".join(sentence() for _ in range(sentences)) for _ in range(paragraphs)]


def similarity(extracted: str, reference: str) -> float:
    """Character-level similarity after whitespace normalisation (both sides)."""
    a, b = " ".join(extracted.split()), " ".join(reference.split())
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def read(folder: Path, **options) -> IngestResult:
    source = DocumentSource(path=str(folder), **options)
    return source.read(source.files(), partition_key=None)


def document_text(rows: pl.DataFrame, file: str) -> str:
    """A document's text rebuilt from its rows' offsets (pages joined by the page separator)."""
    pages = rows.filter(pl.col("_source_file") == file).sort("start")
    text = ""
    for row in pages.iter_rows(named=True):
        text += PAGE_SEPARATOR if text else ""
        assert len(text) == row["start"] and row["end"] - row["start"] == len(row["text"])
        text += row["text"]
    return text


def headings(rows: pl.DataFrame, file: str) -> list[dict]:
    return [h for value in rows.filter(pl.col("_source_file") == file)["headings"] for h in json.loads(value)]


def test_pdf_pages_keep_their_text_numbers_offsets_and_outline(tmp_path: Path) -> None:
    first, second = prose(1, 3), prose(2, 2)
    write_pdf(
        tmp_path / "report.pdf",
        [
            PdfPage(wrap(["Introduction", *first]), headings=[(1, "Introduction")]),
            PdfPage(wrap(["Method", *second]), headings=[(1, "Method"), (2, "Not on the page")]),
        ],
        title="Annual report",
    )
    result = read(tmp_path)

    rows = result.rows.sort("page")
    assert rows["page"].to_list() == [1, 2] and rows["_source_line"].to_list() == [1, 2]
    assert rows["title"].unique().to_list() == ["Annual report"] and rows["format"].unique().to_list() == ["pdf"]
    assert similarity(rows["text"][0], " ".join(["Introduction", *first])) == 1.0
    assert similarity(rows["text"][1], " ".join(["Method", *second])) == 1.0
    full = document_text(result.rows, "report.pdf")
    found = headings(result.rows, "report.pdf")
    assert [(h["level"], h["text"]) for h in found] == [(1, "Introduction"), (1, "Method"), (2, "Not on the page")]
    assert full[found[1]["start"] :].startswith("Method") and found[1]["start"] == rows["start"][1]
    assert result.quarantine.is_empty() and result.rows_in == 2


def test_words_hyphenated_across_lines_are_joined_without_a_marker(tmp_path: Path) -> None:
    write_pdf(tmp_path / "a.pdf", [PdfPage(["The man-", "agement of the quay", "next line"])])
    assert read(tmp_path).rows["text"][0] == "The management of the quay\nnext line"


def test_scanned_blank_encrypted_corrupt_and_unknown_files_are_quarantined(tmp_path: Path) -> None:
    write_pdf(tmp_path / "mixed.pdf", [PdfPage(["Page one has text."]), PdfPage(scanned=True), PdfPage([])])
    write_pdf(tmp_path / "secret.pdf", [PdfPage(["hidden"])], user_password="s3cret")
    (tmp_path / "broken.pdf").write_bytes((tmp_path / "mixed.pdf").read_bytes()[:300])
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "latin.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (tmp_path / "menu.html").write_text("<html><head><script>var a = 1;</script></head><body></body></html>")

    result = read(tmp_path)

    assert result.rows.select("_source_file", "page", "text").rows() == [("mixed.pdf", 1, "Page one has text.")]
    problems = sorted(result.quarantine.select("_source_file", "_source_line", "_reason").rows(), key=str)
    assert problems == sorted(
        [
            ("broken.docx", None, "corrupt_file"),
            ("broken.pdf", None, "corrupt_file"),
            ("empty.txt", None, "empty_file"),
            ("latin.md", None, "invalid_utf8"),
            ("locked.docx", None, "encrypted"),
            ("menu.html", None, "no_main_text"),
            ("mixed.pdf", 2, "no_text_layer"),
            ("mixed.pdf", 3, "empty_page"),
            ("photo.png", None, "unsupported_format"),
            ("secret.pdf", None, "encrypted"),
        ],
        key=str,
    )
    assert result.rows_in == 3  # pages found: one row and two quarantined pages (file-level entries apart)
    latin = result.quarantine.filter(pl.col("_source_file") == "latin.md")
    assert latin["_raw"][0] == "# Caf\ufffd\n" and "byte 5" in latin["_detail"][0]


def test_html_keeps_main_text_headings_and_tables_and_drops_boilerplate(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_DOCUMENTS / "lighthouse.html", tmp_path)
    result = read(tmp_path)

    (row,) = result.rows.iter_rows(named=True)
    assert row["title"] == "The Almerin Head Lighthouse" and row["page"] is None and row["format"] == "html"
    assert "Shop" not in row["text"] and "All rights reserved" not in row["text"]
    assert "| 1921 | Paraffin vapour | 18 |" in row["text"] and "|---|---|---|" in row["text"]
    found = headings(result.rows, "lighthouse.html")
    assert [(h["level"], h["text"]) for h in found] == [
        (1, "The Almerin Head Lighthouse"),
        (2, "Keepers"),
        (2, "The light"),
    ]
    assert all(row["text"][h["start"] :].startswith(h["text"]) for h in found)


def test_docx_reads_paragraphs_and_tables_in_order_with_styled_headings(tmp_path: Path) -> None:
    body = prose(3, 3)
    document = docx.Document()
    document.add_heading("Survey", level=0)
    document.add_heading("Findings", level=1)
    document.add_paragraph(body[0])
    table = document.add_table(rows=2, cols=2)
    for cell, value in zip(
        [*table.rows[0].cells, *table.rows[1].cells], ["Site", "Depth", "North | mole", "3.5"], strict=True
    ):
        cell.text = value
    document.add_heading("Details", level=2)
    document.add_paragraph(body[1])
    document.add_paragraph("")
    document.add_paragraph(body[2])
    document.save(tmp_path / "survey.docx")

    (row,) = read(tmp_path).rows.iter_rows(named=True)
    table_md = "| Site | Depth |\n|---|---|\n| North \\| mole | 3.5 |"
    assert row["text"] == "\n".join(["Survey", "Findings", body[0], table_md, "Details", body[1], body[2]])
    assert row["title"] == "Survey"
    found = json.loads(row["headings"])
    assert [(h["level"], h["text"]) for h in found] == [(1, "Survey"), (1, "Findings"), (2, "Details")]
    assert all(row["text"][h["start"] :].startswith(h["text"]) for h in found)


def test_markdown_headings_skip_code_fences_and_text_title_is_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("Intro\n=====\n\nSome text.\n\n```\n# a comment\n```\n\n### Deep ###\nEnd.\r\n")
    (tmp_path / "plain.txt").write_text("\ufeffHarbour log\n\nLine two.  \n\n\n\nLine three.\n")
    rows = read(tmp_path).rows.sort("_source_file")

    notes, plain = rows.row(0, named=True), rows.row(1, named=True)
    assert [(h["level"], h["text"], h["start"]) for h in json.loads(notes["headings"])] == [
        (1, "Intro", 0),
        (3, "Deep", notes["text"].index("### Deep")),
    ]
    assert notes["title"] == "Intro" and notes["text"].endswith("End.")
    assert plain["text"] == "Harbour log\n\nLine two.\n\nLine three." and plain["title"] == "Harbour log"


@pytest.mark.parametrize("fmt", ["pdf", "html", "docx"])
def test_held_out_style_documents_are_recovered_with_similarity_at_least_0_98(tmp_path: Path, fmt: str) -> None:
    paragraphs = prose(10, 12, sentences=5)
    reference = "\n".join(paragraphs)
    if fmt == "pdf":
        lines = wrap(paragraphs)
        write_pdf(tmp_path / "doc.pdf", [PdfPage(lines[i : i + 48]) for i in range(0, len(lines), 48)])
    elif fmt == "html":
        body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
        (tmp_path / "doc.html").write_text(
            f"<html><head><title>T</title></head><body><article>{body}</article></body></html>"
        )
    else:
        document = docx.Document()
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        document.save(tmp_path / "doc.docx")

    result = read(tmp_path)
    assert similarity(document_text(result.rows, f"doc.{fmt}"), reference) >= 0.98


def test_every_file_is_a_partition_and_rows_carry_it(tmp_path: Path) -> None:
    for name in ("a.md", "b.txt"):
        (tmp_path / name).write_text(f"# {name}\n\ntext of {name}\n")
    source = DocumentSource(path=str(tmp_path), partitioned=True)
    assert source.partition_keys() == ["a.md", "b.txt"]
    result = source.read([tmp_path / "b.txt"], partition_key="b.txt")
    assert result.rows.select("_partition", "_source_file").rows() == [("b.txt", "b.txt")]
    assert re.fullmatch(r"[0-9a-f]{8}-1", result.rows["_row_id"][0])


def test_columns_are_fixed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fixed"):
        DocumentSource(path=str(tmp_path), columns={"text": "string"})


REAL_PDFS = {
    "/usr/share/doc/libtasn1-doc/libtasn1.pdf": "libtasn1-doc",
    "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf": "shared-mime-info",
}


@pytest.mark.parametrize("path", REAL_PDFS)
def test_real_pdfs_from_debian_give_every_page_and_their_outline(tmp_path: Path, path: str) -> None:
    if not Path(path).exists():
        pytest.skip(f"{path} is absent: apt-get install {REAL_PDFS[path]}")
    import pypdfium2

    shutil.copy(path, tmp_path)
    name = Path(path).name
    result = read(tmp_path)
    pages = len(pypdfium2.PdfDocument(path))

    assert result.rows.height + result.quarantine.height == pages
    assert result.rows["page"].to_list() == list(range(1, result.rows.height + 1))
    text = document_text(result.rows, name)
    assert "\ufffe" not in text and "\r" not in text
    outline = headings(result.rows, name)
    assert len(outline) > 5 and sum(text[h["start"] :].startswith(h["text"]) for h in outline) > len(outline) * 0.8
