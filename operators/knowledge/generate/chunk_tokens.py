from __future__ import annotations

from pydantic import Field, model_validator

from operators.knowledge.chunking import Document, Span, _Chunker, by_tokens
from operators.registry import register


@register("chunk_tokens")
class ChunkTokensGenerator(_Chunker):
    """Cut documents into windows of ``size`` words that overlap by ``overlap`` words; a chunk per row.

    Words are whitespace-separated tokens, so the size does not depend on a model's tokenizer (180 words stay under
    all-MiniLM-L6-v2's 256 word pieces). Windows run over the whole document, across page breaks; each chunk keeps
    its file, pages and offsets and names the page rows it overlaps as parents. Unlike DataFlow's ``chonkie``-based
    chunker, the chunk is an exact slice of the document text, so a QA pair's evidence is locatable.
    """

    example = "ChunkTokensGenerator(size=180, overlap=30)"

    size: int = Field(180, ge=1, description="Words per chunk")
    overlap: int = Field(30, ge=0, description="Words each chunk shares with the previous one")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkTokensGenerator:
        if self.overlap >= self.size:
            raise ValueError(f"overlap={self.overlap} must be smaller than size={self.size}")
        return self

    def spans(self, document: Document) -> list[Span]:
        return by_tokens(document.text, (0, len(document.text)), self.size, self.overlap)
