from __future__ import annotations

from typing import Any

import polars as pl
from pydantic import Field

from operators.columns import SOURCE_FILE
from operators.knowledge.chunking import sorted_by_offset
from operators.knowledge.qa import _ChunkItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

MULTIHOP_PROMPT = PromptTemplate(
    name="multihop_qa",
    version="1",
    system="You write multi-step reasoning questions from reference text. Answer with JSON only.",
    template=(
        "Below are {{ passages | length }} passages of one document. Write {{ count }} questions that can only be "
        "answered by combining facts from at least two different passages. For each, give the short answer and the "
        "facts used, one per passage, copied from the passages. "
        'Answer as {"items": [{"question": ..., "answer": ..., "facts": [...]}]}.\n\n'
        "{% for passage in passages %}Passage {{ loop.index }}:\n{{ passage }}\n\n{% endfor %}"
    ),
)

MULTIHOP_ITEM = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 5},
        "answer": {"type": "string", "minLength": 1},
        "facts": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["question", "answer", "facts"],
}


@register("multihop_qa")
class MultihopQAGenerator(_ChunkItemsGenerator):
    """Synthesize questions that combine facts from ``hops`` consecutive chunks of one document.

    Each prompt shows a window of chunks of the same file (in document order, windows overlapping by all but one
    chunk); its items name every chunk of the window in ``_parent_ids``/``chunk_ids`` and list the facts used
    (``facts``), which a support check can look up in the chunks. Documents with fewer chunks than ``hops`` give
    no prompt.
    """

    references = ("Yang et al. 2018, HotpotQA, arXiv:1809.09600",)
    example = "MultihopQAGenerator(hops=2, count=2)"

    prompt: PromptTemplate = Field(MULTIHOP_PROMPT, description="Template over `passages` (list) and `count`")
    item_schema: dict[str, Any] = Field(MULTIHOP_ITEM, description="One question, its answer and the facts used")
    count: int = Field(2, ge=1, le=20, description="Questions asked for per window of chunks")
    hops: int = Field(2, ge=2, le=5, description="Chunks per window: the passages a question must combine")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")

    def windows(self, df: pl.DataFrame) -> list[pl.DataFrame]:
        ordered = sorted_by_offset(df)
        documents = ordered.partition_by(SOURCE_FILE, maintain_order=True) if SOURCE_FILE in df.columns else [ordered]
        return [doc.slice(first, self.hops) for doc in documents for first in range(doc.height - self.hops + 1)]
