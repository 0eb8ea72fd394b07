from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.columns import ROW_ID
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

TEXT2QA_PROMPT = PromptTemplate(
    name="text2qa",
    version="1",
    system="You write question-answer pairs for training and evaluating models. Answer with JSON only.",
    template=(
        "Read the text and write {{ count }} question-answer pairs about it. Each question must be answerable from "
        "the text alone and make sense without it (no 'according to the text'); each answer must be short, "
        'correct and taken from the text. Answer as {"items": [{"question": ..., "answer": ...}, ...]}.\n\n'
        "Text:\n{{ text }}"
    ),
)

QA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 5}, "answer": {"type": "string", "minLength": 1}},
    "required": ["question", "answer"],
}

MULTIHOP_PROMPT = PromptTemplate(
    name="text2multihop_qa",
    version="1",
    system="You write multi-hop questions: each needs two or more facts from different sentences. JSON only.",
    template=(
        "Read the text and write {{ count }} questions that can only be answered by combining at least two facts "
        "stated in different sentences (e.g. a bridge entity: the first fact leads to the second). For each give "
        "the answer, the supporting sentences copied from the text, and the reasoning in one line. Answer as "
        '{"items": [{"question": ..., "answer": ..., "supporting_facts": [<sentence>, ...], "reasoning": ...}]}.'
        "\n\nText:\n{{ text }}"
    ),
)
"""After HotpotQA's multi-hop questions (Yang et al., EMNLP 2018) and DataFlow's Text2MultiHopQAGenerator; use
with ``MULTIHOP_SCHEMA`` as ``text2qa(prompt=MULTIHOP_PROMPT, item_schema=MULTIHOP_SCHEMA)``."""

MULTIHOP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 5},
        "answer": {"type": "string", "minLength": 1},
        "supporting_facts": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "reasoning": {"type": "string"},
    },
    "required": ["question", "answer", "supporting_facts", "reasoning"],
}


@register("text2qa")
class Text2QAGenerator(LLMItemsGenerator):
    """Write question-answer pairs from each text (a chunk, a paragraph, a page): every pair a new row naming its
    text in ``_parent_ids``.

    One prompt per input row, rendered from its columns (the default template reads ``text`` and ``count``); the
    answer is ``{"items": [...]}`` of up to ``count`` objects of ``item_schema`` (default ``question`` and
    ``answer``), each becoming a row with typed columns. A row whose answer fails is rejected with its prompt and
    reason, and the pairs of every other row still name their own text: DataFlow's ``Text2QAGenerator`` pairs
    answers with chunks by position, so one failure shifts every later pair onto the wrong chunk. Multi-hop
    questions: ``prompt=MULTIHOP_PROMPT, item_schema=MULTIHOP_SCHEMA`` (questions with their supporting facts).
    Grade the pairs with ``prompted_structured`` and ``templates.TEXT2QA_GRADE`` (four dimensions).
    """

    inputs: ClassVar[int | None] = 1
    references: ClassVar[tuple[str, ...]] = (
        "Yang et al., HotpotQA: A Dataset for Diverse, Explainable Multi-hop Question Answering, EMNLP 2018",
    )

    prompt: PromptTemplate = Field(TEXT2QA_PROMPT, description="Template over the row's columns and `count`")
    item_schema: dict[str, Any] = Field(QA_SCHEMA, description="Object JSON schema of one pair")
    count: int = Field(3, ge=1, le=100, description="Pairs asked for per text (the answer may hold fewer)")
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [column for column in self.prompt.columns() if column != "count"]

    def build_prompts(self, df: pl.DataFrame) -> list[ItemsPrompt]:
        columns = self.reads({})
        return [
            ItemsPrompt(self.prompt.render({**row, "count": self.count}), parents=[row[ROW_ID]])
            for row in df.select(ROW_ID, *columns).to_dicts()
        ]
