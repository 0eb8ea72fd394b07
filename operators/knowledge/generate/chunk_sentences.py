from __future__ import annotations

from pydantic import Field

from operators.knowledge.chunking import Document, Span, _Chunker, pack, sentences
from operators.registry import register


@register("chunk_sentences")
class ChunkSentencesGenerator(_Chunker):
    """Cut documents at sentence ends and pack whole sentences into chunks of at most ``max_words`` words.

    The last ``overlap_sentences`` sentences of a chunk are repeated at the start of the next.

    Sentences end at ``.``, ``!`` or ``?`` before a capital or a digit (not after common abbreviations), at blank
    lines and before list items, table rows and headings; a sentence longer than ``max_words`` is cut into word
    windows. No chunk ends mid-sentence otherwise, which keeps QA evidence whole.
    """

    example = "ChunkSentencesGenerator(max_words=180, overlap_sentences=1)"

    max_words: int = Field(180, ge=1, description="Most words in a chunk")
    overlap_sentences: int = Field(1, ge=0, description="Sentences a chunk shares with the previous one")

    def spans(self, document: Document) -> list[Span]:
        return pack(document.text, sentences(document.text), self.max_words, self.overlap_sentences)
