from __future__ import annotations

from pydantic import Field

from operators.knowledge.chunking import Document, Span, _Chunker, pack, sections, sentences
from operators.registry import register


@register("chunk_structure")
class ChunkStructureGenerator(_Chunker):
    """Cut documents at their headings: a chunk per section, a section longer than ``max_words`` packed by sentences.

    Headings come from the PDF outline, HTML ``<h1>``-``<h6>``, DOCX heading styles and Markdown ``#`` lines.

    Each chunk's ``section`` column holds its heading path ("Chapter > Section"), so a question generated from it
    can be told where in the document it comes from. Sections of fewer than ``min_words`` words (a heading followed
    at once by a sub-heading) are merged into the next section rather than becoming chunks of a few words.
    """

    example = "ChunkStructureGenerator(max_words=250, overlap_sentences=1)"

    max_words: int = Field(250, ge=1, description="Most words in a chunk; longer sections are packed by sentences")
    min_words: int = Field(8, ge=0, description="A shorter section is merged into the one after it")
    overlap_sentences: int = Field(1, ge=0, description="Sentences shared between the chunks of one long section")

    def spans(self, document: Document) -> list[Span]:
        text, merged, pending = document.text, [], None
        for start, end in sections(document):
            start = pending if pending is not None else start
            pending = start if len(text[start:end].split()) < self.min_words else None
            if pending is None:
                merged.append((start, end))
        if pending is not None:
            merged.append((pending, len(text.rstrip())))
        spans = []
        for section in merged:
            if len(text[section[0] : section[1]].split()) <= self.max_words:
                spans.append(section)
            else:
                spans += pack(text, sentences(text, *section), self.max_words, self.overlap_sentences)
        return spans
