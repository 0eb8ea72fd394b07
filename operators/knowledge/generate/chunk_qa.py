from __future__ import annotations

from typing import Any

from pydantic import Field

from operators.knowledge.qa import _ChunkItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

CHUNK_QA_PROMPT = PromptTemplate(
    name="chunk_qa",
    version="1",
    system="You write exam questions from reference text. Answer with JSON only.",
    template=(
        "Write {{ count }} question-answer pairs about the passage. Each question must be answerable from the passage "
        "alone and make sense without it (name the subject, never say 'the passage'); each answer is short and "
        'copied or closely paraphrased from the passage. Answer as {"items": [{"question": ..., "answer": ...}]}.\n\n'
        "Passage:\n{{ chunk }}"
    ),
)

QA_ITEM = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 5}, "answer": {"type": "string", "minLength": 1}},
    "required": ["question", "answer"],
}


@register("chunk_qa")
class ChunkQAGenerator(_ChunkItemsGenerator):
    """Synthesize several question-answer pairs per chunk (structured output), each a new row naming its chunk.

    The chunk is named in ``_parent_ids`` and ``chunk_ids``; its file, pages and offsets are carried.

    As in DataFlow's knowledge-base cleaning pipeline (QA extraction from cleaned chunks, which lifted PubMedQA by
    15-20 points in the paper), but attached to the right chunk by construction (see ``operators.knowledge.qa``).
    """

    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (knowledge extraction pipeline)",)
    example = "ChunkQAGenerator(count=3)"

    prompt: PromptTemplate = Field(CHUNK_QA_PROMPT, description="Template over `chunk` and `count`")
    item_schema: dict[str, Any] = Field(QA_ITEM, description="One pair: question and answer")
    count: int = Field(3, ge=1, le=20, description="Pairs asked for per chunk")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")
