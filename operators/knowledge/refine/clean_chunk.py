from __future__ import annotations

import re
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Read, Rule, Write, apply_rules
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

CLEAN_PROMPT = PromptTemplate(
    name="clean_chunk",
    version="1",
    system="You clean text extracted from documents. You never add, drop or change facts.",
    template=(
        "Clean this passage extracted from a document: join words broken across lines, remove page headers, "
        "footers, page numbers, stray symbols and repeated boilerplate, and fix the spacing. Keep every fact, name "
        "and number exactly as written, and keep tables as Markdown. Reply with the cleaned passage only.\n\n"
        "Passage:\n{{ chunk }}"
    ),
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@register("clean_chunk")
class CleanChunkRefiner(LLMOperator):
    """Clean a raw chunk with an LLM (layout noise out, facts kept), the original kept beside the cleaned text.

    The cleaned text goes to ``output_key``; the raw chunk stays in its column, so lineage shows both. Two checks
    guard against a model that summarises or invents: every number of the raw chunk must still be in the cleaned
    one (``cleaning_dropped_numbers``), and the cleaned text must keep at least ``min_length_ratio`` of the raw
    length (``cleaning_too_short``). DataFlow's knowledge cleaning step rewrites the chunk in place, with no check.
    """

    category: ClassVar[Category] = Category.REFINE
    key_docs = {"output_key": "the cleaned chunk (the raw one stays in its own column)"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (KBC cleaning)",)

    prompt: PromptTemplate = Field(CLEAN_PROMPT, description="The cleaning prompt; it reads the 'chunk' column")
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")
    min_length_ratio: float = Field(0.5, ge=0, le=1, description="Shortest cleaned text, as a share of the raw length")

    def parse(
        self, result: LLMResult, row: dict[str, Any], *, input_key: Read = "chunk", output_key: Write = "cleaned_chunk"
    ) -> dict[str, Any]:
        cleaned = (result.text or "").strip()
        if not cleaned:
            raise AnswerError("the cleaned text is empty")
        return {output_key: cleaned}

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        raw, cleaned = keys["input_key"], keys["output_key"]
        missing = [
            [n for n in _NUMBER.findall(before or "") if n not in (after or "")]
            for before, after in zip(answered[raw], answered[cleaned], strict=True)
        ]
        judged = answered.with_columns(pl.Series("__missing", missing, pl.List(pl.String)))
        ratio = pl.col(cleaned).str.len_chars() / pl.col(raw).str.len_chars().clip(lower_bound=1)
        rules = {
            "cleaning_dropped_numbers": Rule(
                score=pl.col("__missing").list.len().alias("numbers_dropped"),
                keep=pl.col("__missing").list.len() == 0,
                detail=pl.format("numbers missing after cleaning: {}", pl.col("__missing").list.join(", ")),
            ),
            "cleaning_too_short": Rule(score=ratio.alias("length_ratio"), keep=ratio >= self.min_length_ratio),
        }
        result = apply_rules(judged, rules)
        rejected = result.rejected.drop("__missing") if result.rejected is not None else None
        return OpResult(kept=result.kept.drop("__missing"), rejected=rejected, scores=result.scores)
