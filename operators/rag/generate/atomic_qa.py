from __future__ import annotations

from typing import Any

from pydantic import Field

from operators.knowledge.qa import _ChunkItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

ATOMIC_PROMPT = PromptTemplate(
    name="atomic_qa",
    version="1",
    system="You write verifiable search tasks from documents. Answer with JSON only.",
    template=(
        "Read the passage. Name the entity it is about (its identifier, e.g. a person, place or object, with enough "
        "detail to be unique), then write {{ count }} conclusions the passage states about it, each with a question "
        "whose single short answer is that conclusion's key value (a name, number or date found in the passage). "
        "The question must name the identifier and must not contain the answer.\n"
        'Answer as {"items": [{"identifier": ..., "conclusion": ..., "question": ..., "answer": ...}]}.\n\n'
        "Passage:\n{{ chunk }}"
    ),
)

ATOMIC_ITEM = {
    "type": "object",
    "properties": {
        "identifier": {"type": "string", "minLength": 2},
        "conclusion": {"type": "string", "minLength": 5},
        "question": {"type": "string", "minLength": 5},
        "answer": {"type": "string", "minLength": 1},
    },
    "required": ["identifier", "conclusion", "question", "answer"],
}


@register("atomic_qa")
class AtomicQAGenerator(_ChunkItemsGenerator):
    """Synthesize atomic search tasks from a chunk: identifier, conclusion, verifiable question, short answer.

    The identifier is what the passage is about, the conclusion a fact it states, and the question's short answer
    is the conclusion's key value.

    The first step of DataFlow's agentic RAG pipeline (after WebSailor/TaskCraft-style atomic tasks); the tasks
    are then kept only if they need the document (``document_dependence``), survive the ``leakage`` and
    ``difficulty`` filters and are made deeper (``depth_expand``) or wider (``width_expand``). Each task names its
    chunk in ``_parent_ids`` and ``chunk_ids``.
    """

    references = (
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (agentic RAG pipeline)",
        "Shi et al. 2025, TaskCraft: Automated Generation of Agentic Tasks, arXiv:2506.10055",
    )
    example = "AtomicQAGenerator(count=2)"

    prompt: PromptTemplate = Field(ATOMIC_PROMPT, description="Template over `chunk` and `count`")
    item_schema: dict[str, Any] = Field(ATOMIC_ITEM, description="Identifier, conclusion, question, answer")
    count: int = Field(2, ge=1, le=20, description="Tasks asked for per chunk")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")
