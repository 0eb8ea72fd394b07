"""Clean text out of PDF, HTML, DOCX, Markdown and plain-text files, page by page, with the headings' positions.

One function per format, each built on a well-kept permissive library and returning the same :class:`Extracted`:

- PDF: pypdfium2 (Apache-2.0/BSD; PDFium's text layer in content order, ~2-4 ms a page here). PDFium marks a word
  hyphenated across a line break with U+FFFE and already joins the halves, so the marker is simply removed.
  Headings come from the PDF's outline (bookmarks), located on their page. A page with images and no text is a
  scan (``no_text_layer``), a page with nothing on it ``empty_page``; both are quarantined, never silently lost.
- HTML: trafilatura (Apache-2.0): the main text without navigation, footers and other boilerplate, tables as
  Markdown rows, lists as ``- `` items; headings are its ``<head>`` elements.
- DOCX: python-docx (MIT): paragraphs and tables in body order; ``Heading N`` and ``Title`` paragraph styles give
  the headings; tables become Markdown. Headers, footers and comments are not body text and are left out.
- Markdown and plain text: the file's own text; ATX (``#``) and setext headings outside code fences.

docling, marker and MinerU are not used: they download models at run time. Text is only normalised in its
whitespace (line ends, trailing blanks, runs of blank lines, no-break spaces) and control characters, so that it
stays faithful to the document: nothing is reordered, summarised or added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DocumentFormat = Literal["pdf", "html", "docx", "markdown", "text"]
PAGE_SEPARATOR = "\n\n"
"""What joins two pages in a document's text: offsets (``start``, ``end``, headings) count it."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\xad\ufffe\uffff]")
"""Characters deleted from extracted text: C0 controls but tab and newline, DEL, soft hyphens and PDFium's U+FFFE
(the mark it leaves where it joined a word hyphenated across lines)."""
_TRAILING = re.compile(r"[ \t]+(?=\n)")
_BLANK_RUNS = re.compile(r"\n{3,}")
_GARBLED = re.compile(r"[\ufffd\ue000-\uf8ff]")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$|^ {0,3}(#{1,6})[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    start: int
    """Offset of the heading in the document's text."""


@dataclass(frozen=True)
class Page:
    number: int | None
    """1-based page; None for formats without pages (HTML, DOCX, Markdown, text: the document is one unit)."""
    text: str


@dataclass(frozen=True)
class Problem:
    """A page (or, with ``page`` None, a whole file) that gave no text, and why."""

    page: int | None
    reason: str
    detail: str
    raw: str | None = None


@dataclass
class Extracted:
    title: str
    pages: list[Page] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def offsets(self) -> list[tuple[int, int]]:
        """(start, end) of every page in the document's text: the pages' texts joined by ``PAGE_SEPARATOR``."""
        spans, position = [], 0
        for page in self.pages:
            spans.append((position, position + len(page.text)))
            position += len(page.text) + len(PAGE_SEPARATOR)
        return spans

    @property
    def text(self) -> str:
        return PAGE_SEPARATOR.join(page.text for page in self.pages)


class FileProblem(Exception):
    """The whole file gives no text: quarantined with ``reason``."""

    def __init__(self, reason: str, detail: str, raw: str | None = None) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.raw = reason, detail, raw


def clean(text: str) -> str:
    """Whitespace and control characters normalised; nothing else changes. Each pass runs only when its target
    occurs (a containment test is a fast C scan), so clean text costs little more than one copy."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\u00a0", " ")
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if " \n" in text or "\t\n" in text:
        text = _TRAILING.sub("", text)
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def extract(path: Path, data: bytes, fmt: DocumentFormat) -> Extracted:
    """The document's pages, title and headings; raises :class:`FileProblem` for a file that gives no text."""
    if not data.strip():
        raise FileProblem("empty_file", "the file is empty", "")
    return _EXTRACTORS[fmt](path, data)


# --- PDF ---


def _pdf(path: Path, data: bytes) -> Extracted:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise FileProblem("encrypted", "the PDF is encrypted: it cannot be read without its password") from None
        raise FileProblem("corrupt_file", f"not a readable PDF ({error})") from None
    try:
        texts: list[tuple[int, str]] = []
        problems: list[Problem] = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            text = clean(textpage.get_text_range())
            problem = _page_problem(page, index + 1, text, pdfium_c)
            if problem:
                problems.append(problem)
            else:
                texts.append((index + 1, text))
            textpage.close()
            page.close()
        outline = [(item.level + 1, clean(item.get_title()), _dest_page(item)) for item in pdf.get_toc()]
        title = clean(pdf.get_metadata_value("Title") or "")
    finally:
        pdf.close()
    extracted = Extracted(title="", pages=[Page(number, text) for number, text in texts], problems=problems)
    extracted.headings = _locate(outline, extracted)
    extracted.title = title or _first_line(extracted) or path.stem
    return extracted


def _page_problem(page, number: int, text: str, pdfium_c) -> Problem | None:
    if text:
        if _GARBLED.search(text) is None:  # the common case: one scan, no list
            return None
        garbled = len(_GARBLED.findall(text))
        visible = len(text) - text.count(" ") - text.count("\n")
        if garbled > visible / 2:
            return Problem(number, "garbled_text", f"page {number}: the text layer is mostly unmappable glyphs")
        return None
    images = sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
    if images or any(True for _ in page.get_objects(max_depth=1)):
        return Problem(number, "no_text_layer", f"page {number}: drawn or scanned ({images} image(s)), no text: OCR it")
    return Problem(number, "empty_page", f"page {number}: the page is blank")


def _dest_page(item) -> int | None:
    dest = item.get_dest()
    index = dest.get_index() if dest is not None else None
    return None if index is None else index + 1


def _locate(outline: list[tuple[int, str, int | None]], extracted: Extracted) -> list[Heading]:
    """Outline entries as headings at their place in the text: on their page, after the previous heading there;
    where the title is not found verbatim (a shortened bookmark), at the start of its page."""
    spans = {page.number: span for page, span in zip(extracted.pages, extracted.offsets(), strict=True)}
    headings, cursor = [], 0
    text = extracted.text
    for level, title, number in outline:
        if not title or number not in spans:
            continue
        start, end = spans[number]
        found = text.find(title, max(start, cursor), end)
        position = found if found >= 0 else max(start, min(cursor, end))
        headings.append(Heading(level, title, position))
        cursor = position + (len(title) if found >= 0 else 0)
    return sorted(headings, key=lambda h: h.start)


# --- HTML ---


def _html(path: Path, data: bytes) -> Extracted:
    from trafilatura import bare_extraction
    from trafilatura.xml import xmltotxt

    document = bare_extraction(
        data,
        favor_recall=True,
        include_tables=True,
        include_comments=False,
        include_formatting=False,
        with_metadata=True,
    )
    body = getattr(document, "body", None)
    text = clean(xmltotxt(body, False)) if body is not None else ""
    if not text:
        raw = data.decode("utf-8", errors="replace")
        raise FileProblem("no_main_text", "trafilatura found no main text in the page", raw)
    headings, cursor = [], 0
    for element in body.iter("head"):
        heading = clean("".join(element.itertext()))
        found = text.find(heading, cursor) if heading else -1
        if found >= 0:
            rend = element.get("rend") or ""
            headings.append(Heading(int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2, heading, found))
            cursor = found + len(heading)
    extracted = Extracted(title="", pages=[Page(None, text)], headings=headings)
    extracted.title = clean(document.title or "") or next((h.text for h in headings), "") or path.stem
    return extracted


# --- DOCX ---


def _docx(path: Path, data: bytes) -> Extracted:
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise FileProblem("encrypted", "an OLE compound file, not a ZIP package: a password-protected DOCX or a .doc")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise FileProblem("corrupt_file", f"not a readable DOCX ({error})") from None
    # (text, style id) of every non-empty block in body order; tables have no paragraph style.
    blocks: list[tuple[str, str | None]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            text, style = _markdown_table([[clean(cell.text) for cell in row.cells] for row in block.rows]), None
        else:
            text, style = clean(block.text), block._element.style
        if text:
            blocks.append((text, style))
    names = _style_names(document, {style for _, style in blocks if style})
    headings: list[Heading] = []
    title, position = "", 0
    for text, style in blocks:
        level = _heading_level(names.get(style, "")) if style else None
        if level is not None:
            headings.append(Heading(level, text, position))
            title = title or (text if level <= 1 else "")
        position += len(text) + 1
    blocks = [text for text, _ in blocks]
    text = "\n".join(blocks)
    if not text:
        raise FileProblem("no_text", "the document has no text in its body (images only?)")
    extracted = Extracted(title="", pages=[Page(None, text)], headings=headings)
    core_title = clean(document.core_properties.title or "")
    extracted.title = core_title or title or next((h.text for h in headings), "") or path.stem
    return extracted


def _style_names(document, ids: set[str]) -> dict[str, str]:
    """The names of the paragraph styles ``ids``, looked up in the styles part's XML and mapped as python-docx maps
    them ("heading 1" -> "Heading 1"). ``paragraph.style`` would search every style of the document for each
    paragraph (reading a DOCX took 4x the time of its text), and even listing the styles once costs a tenth."""
    from docx.oxml.ns import qn
    from docx.styles import BabelFish

    names = {}
    for style_id in ids - {i for i in ids if "'" in i}:  # an id is put in an XPath literal
        style = document.styles.element.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")
        name = style.find(qn("w:name")) if style is not None else None
        names[style_id] = BabelFish.internal2ui(name.get(qn("w:val"))) if name is not None else ""
    return names


def _heading_level(style: str) -> int | None:
    if style == "Title":
        return 1
    found = re.fullmatch(r"Heading (\d)", style)
    return int(found.group(1)) if found else None


def _markdown_table(rows: list[list[str]]) -> str:
    """Rows as a Markdown table, the first row as its header; pipes and line breaks in cells escaped."""
    rows = [[cell.replace("|", "\\|").replace("\n", " ") for cell in row] for row in rows if any(row)]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in rows]
    return "\n".join([lines[0], "|" + "---|" * width, *lines[1:]])


# --- Markdown and plain text ---


def _decode(data: bytes) -> str:
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        detail = f"not valid UTF-8 ({error.reason} at byte {error.start})"
        raise FileProblem("invalid_utf8", detail, data.decode("utf-8", errors="replace")) from None


def _decoded_text(data: bytes) -> str:
    text = clean(_decode(data))
    if not text:
        raise FileProblem("empty_file", "the file holds only blanks and control characters", "")
    return text


def _markdown(path: Path, data: bytes) -> Extracted:
    text = _decoded_text(data)
    headings, position, fenced, previous = [], 0, False, ""
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            atx = _ATX.match(line)
            setext = _SETEXT.match(line)
            if atx and atx.group(2):
                headings.append(Heading(len(atx.group(1)), atx.group(2).strip(), position))
            elif setext and previous.strip() and not _ATX.match(previous):
                start = position - len(previous) - 1
                headings.append(Heading(1 if setext.group(1)[0] == "=" else 2, previous.strip(), start))
        previous = line
        position += len(line) + 1
    extracted = Extracted(title="", pages=[Page(None, text)], headings=headings)
    first = next((h.text for h in headings if h.level == 1), "") or next((h.text for h in headings), "")
    extracted.title = first or path.stem
    return extracted


def _text(path: Path, data: bytes) -> Extracted:
    text = _decoded_text(data)
    extracted = Extracted(title="", pages=[Page(None, text)])
    extracted.title = _first_line(extracted) or path.stem
    return extracted


def _first_line(extracted: Extracted) -> str:
    for page in extracted.pages:
        for line in page.text.split("\n"):
            if line.strip():
                return line.strip()[:200]
    return ""


_EXTRACTORS = {"pdf": _pdf, "html": _html, "docx": _docx, "markdown": _markdown, "text": _text}
