"""A minimal PDF writer for the sample documents and the tests: text pages, an outline, an image-only page, and
the standard security handler's password check.

Why hand-written: no permissive PDF *writer* is installed (reportlab is not; pypdfium2 writes text but no outline
and no encryption). The format is small enough for what we need: Helvetica text objects (WinAnsi, so text must
be Latin-1), one ``/Outlines`` entry per heading, a tiny grey image XObject for a "scanned" page with no text
layer, and an ``/Encrypt`` dictionary (RC4, revision 2, PDF 1.7 §7.6.3) whose user password a reader must be given.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
FONT_SIZE, LEADING, MARGIN = 11, 14, 72
WRAP = 80
"""Characters per line: Helvetica at 11 pt averages ~5.5 pt a character, so 80 fit the 468 pt text width."""
_PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


@dataclass
class PdfPage:
    lines: list[str] = field(default_factory=list)
    """Text lines, top to bottom; an empty line leaves a gap."""
    headings: list[tuple[int, str]] = field(default_factory=list)
    """Outline entries pointing at this page: (level, title), level 1 at the top."""
    scanned: bool = False
    """An image and no text: a page that needs OCR."""


def wrap(paragraphs: list[str], width: int = WRAP) -> list[str]:
    """Paragraphs as lines of at most ``width`` characters, a blank line between paragraphs."""
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append("")
        lines += textwrap.wrap(paragraph, width) or [""]
    return lines


class _Objects:
    """The file's numbered objects; a body may be filled in after its number is taken (forward references)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def add(self, body: bytes = b"") -> int:
        self.bodies.append(body)
        return len(self.bodies)

    def set(self, number: int, body: bytes) -> None:
        self.bodies[number - 1] = body


def write_pdf(path: Path, pages: list[PdfPage], *, title: str = "", user_password: str | None = None) -> Path:
    """Write ``pages`` to ``path`` and return it."""
    objects = _Objects()
    catalog, pages_id = objects.add(), objects.add()
    font = objects.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = objects.add(
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Length 4 >>\nstream\n\x80\x40\x40\x80\nendstream"
    )
    page_ids, outline_entries = [], []
    for page in pages:
        content = _content(page)
        stream = objects.add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        page_id = objects.add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>"
            % (pages_id, PAGE_WIDTH, PAGE_HEIGHT, stream, font, image)
        )
        page_ids.append(page_id)
        outline_entries += [(level, text, page_id) for level, text in page.headings]
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects.set(pages_id, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids)))
    outline = b""
    if outline_entries:
        outline = b" /Outlines %d 0 R /PageMode /UseOutlines" % _outline(outline_entries, objects)
    objects.set(catalog, b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_id, outline))
    trailer = b""
    if title:
        trailer += b" /Info %d 0 R" % objects.add(b"<< /Title %s /Producer (dataflow-assets) >>" % _string(title))
    file_id = hashlib.md5(path.name.encode()).digest()
    if user_password is not None:
        trailer += b" /Encrypt %d 0 R" % objects.add(_encryption(user_password, file_id))
    path.write_bytes(_serialize(objects.bodies, catalog, trailer, file_id))
    return path


def _content(page: PdfPage) -> bytes:
    if page.scanned:
        return b"q 468 0 0 648 72 72 cm /Im1 Do Q"
    parts, y = [], PAGE_HEIGHT - MARGIN
    for line in page.lines:
        if line:
            parts.append(b"BT /F1 %d Tf %d %d Td %s Tj ET" % (FONT_SIZE, MARGIN, y, _string(line)))
        y -= LEADING
    return b"\n".join(parts)


def _outline(entries: list[tuple[int, str, int]], objects: _Objects) -> int:
    """The outline tree of (level, title, page object) entries in reading order; returns its root object."""
    root = {"id": objects.add(), "level": 0, "kids": []}
    stack = [root]
    for level, title, page in entries:
        node = {"id": objects.add(), "level": level, "title": title, "page": page, "kids": []}
        while stack[-1]["level"] >= level:
            stack.pop()
        node["parent"] = stack[-1]["id"]
        stack[-1]["kids"].append(node)
        stack.append(node)
    _link(root, objects)
    objects.set(root["id"], b"<< /Type /Outlines%s >>" % _children(root))
    return root["id"]


def _link(parent: dict, objects: _Objects) -> None:
    kids = parent["kids"]
    for index, kid in enumerate(kids):
        links = _children(kid)
        if index:
            links += b" /Prev %d 0 R" % kids[index - 1]["id"]
        if index + 1 < len(kids):
            links += b" /Next %d 0 R" % kids[index + 1]["id"]
        body = b"<< /Title %s /Parent %d 0 R /Dest [%d 0 R /XYZ null null null]%s >>"
        objects.set(kid["id"], body % (_string(kid["title"]), kid["parent"], kid["page"], links))
        _link(kid, objects)


def _children(node: dict) -> bytes:
    kids = node["kids"]
    if not kids:
        return b""
    return b" /First %d 0 R /Last %d 0 R /Count %d" % (kids[0]["id"], kids[-1]["id"], len(kids))


def _encryption(user_password: str, file_id: bytes) -> bytes:
    """The standard security handler, revision 2 (40-bit RC4): enough for a reader to ask for the password."""
    owner_key = hashlib.md5(_pad(user_password + "-owner")).digest()[:5]
    owner = _rc4(owner_key, _pad(user_password))
    permissions = -4
    key = hashlib.md5(_pad(user_password) + owner + permissions.to_bytes(4, "little", signed=True) + file_id).digest()
    user = _rc4(key[:5], _PADDING)
    return b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner.hex().encode(),
        user.hex().encode(),
        permissions,
    )


def _pad(password: str) -> bytes:
    return (password.encode("latin-1") + _PADDING)[:32]


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def _serialize(bodies: list[bytes], catalog: int, trailer: bytes, file_id: bytes) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    ids = file_id.hex().encode()
    out += b"trailer\n<< /Size %d /Root %d 0 R /ID [<%s> <%s>]%s >>\n" % (len(bodies) + 1, catalog, ids, ids, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
