"""The sample documents of the ``knowledge`` and ``agentic_rag`` groups, written for this project.

They describe an invented coastal town, Port Almerin, so that a model cannot answer questions about them from
memory: the agentic RAG filters keep a question only when the document is needed to answer it. Facts are spread
over the files so that multi-hop questions have something to link (the lighthouse keeper of the HTML page is the
engineer of the bridge in the Markdown file...). The HTML, Markdown and text files are written by hand;
``python -m dataflow_assets.knowledge.samples`` rewrites the two binary ones from the text below (PDF by
``pdf_writer``, DOCX by python-docx). All are committed, so that nothing is generated at run time.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dataflow_assets.knowledge.pdf_writer import PdfPage, wrap, write_pdf

SAMPLE_DOCUMENTS = Path(__file__).parent / "data" / "documents"

TIDES = {
    "Tides at Port Almerin": [
        "Port Almerin lies at the head of the Veskel Estuary. The harbour has two high waters and two low waters "
        "every lunar day, a semi-diurnal tide typical of the coast.",
        "The harbour master Ilse Varrow began the tide register in 1871. Her register recorded every high water "
        "for forty-two years and is kept today in the town archive.",
    ],
    "Tidal range": [
        "The mean spring range at the Almerin quay is 4.7 metres and the mean neap range is 2.1 metres. During the "
        "equinoctial springs of March the range can reach 5.3 metres.",
        "The bar at the mouth of the estuary is covered by less than one metre of water at low spring tide, so "
        "deep-draught ships wait for the flood before they enter.",
    ],
    "The tidal bore": [
        "On the largest spring tides a bore runs up the Veskel. Locals call it the Grey Horse. It travels at about "
        "fourteen kilometres per hour and reaches the village of Tarn Ferry about forty minutes after it forms.",
        "Surfers first rode the Grey Horse in 1987. The longest recorded ride lasted eleven minutes.",
    ],
}

GLACIER_DOC = {
    "title": "The Colm Ridge quarry",
    "sections": [
        (
            "History",
            [
                "Granite from the Colm Ridge quarry built the Almerin Head lighthouse and the harbour moles.",
                "The quarry opened in 1848 and closed in 1956, after the last large order for kerbstones.",
            ],
        ),
        (
            "The stone",
            [
                "Colm granite is pale grey with large pink feldspar crystals. It weathers slowly and takes a polish.",
            ],
        ),
    ],
    "table": [
        ["Product", "Years", "Tonnes"],
        ["Lighthouse blocks", "1856-1859", "2,400"],
        ["Kerbstones", "1890-1956", "61,000"],
    ],
}


def write_samples(folder: Path = SAMPLE_DOCUMENTS) -> list[Path]:
    """Write the binary sample documents (PDF, DOCX) into ``folder`` and return their paths."""
    import docx

    folder.mkdir(parents=True, exist_ok=True)
    sections = list(TIDES.items())
    pdf = write_pdf(
        folder / "tides.pdf",
        [
            PdfPage(
                wrap([sections[0][0], *sections[0][1], sections[1][0], *sections[1][1]]),
                headings=[(1, sections[0][0]), (2, sections[1][0])],
            ),
            PdfPage(wrap([sections[2][0], *sections[2][1]]), headings=[(2, sections[2][0])]),
        ],
        title="Tides at Port Almerin",
    )
    document = docx.Document()
    document.core_properties.title = GLACIER_DOC["title"]
    document.add_heading(GLACIER_DOC["title"], level=0)
    for heading, paragraphs in GLACIER_DOC["sections"]:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    rows = GLACIER_DOC["table"]
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document_path = folder / "quarry.docx"
    document.core_properties.created = document.core_properties.modified = datetime(2025, 1, 1)
    document.save(document_path)
    return [pdf, document_path]


if __name__ == "__main__":
    for written in write_samples():
        print(written)
