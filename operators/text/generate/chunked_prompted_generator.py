from __future__ import annotations

import re
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Read, Write
from operators.llm.base import FAILED, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult
from operators.registry import register

SUMMARIZE_CHUNK = PromptTemplate(
    name="summarize_chunk",
    version="1",
    system="You condense long documents piece by piece.",
    template="Summarize this part of a longer document in a few sentences, keeping names, numbers and facts.\n\n"
    "{{ chunk }}",
)


@register("chunked_prompted_generator")
class ChunkedPromptedGenerator(LLMOperator):
    """Prompt an LLM over a long text piece by piece: the text is cut into chunks that fit the model, each chunk
    is asked with the template, and the answers are joined into one column.

    Chunks are up to ``max_chars`` characters, cut at paragraph breaks, else at sentence ends, else (a single
    overlong sentence) at ``max_chars``; the template gets the chunk as ``chunk`` (and the row's other columns by
    name). All chunks of all rows go to the LLM in one batch; each row's answers are joined in order with
    ``separator``. A row any of whose chunks failed is rejected with that chunk's reason (``chunk 3/7: ...``),
    never joined with a gap. ``chunk_count_key`` receives how many chunks a row had. Covers DataFlow's
    ``ChunkedPromptedGenerator`` (which cuts by tokens of a Hugging Face tokenizer); characters need no tokenizer:
    allow about 4 characters per token of the model's context, less the prompt and the answer.
    """

    category: ClassVar[Category] = Category.GENERATE
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"chunk_count_key": pl.Int64()}

    prompt: PromptTemplate = Field(SUMMARIZE_CHUNK, description="Template over `chunk` and the row's columns")
    max_chars: int = Field(6000, ge=100, description="Most characters per chunk")
    separator: str = Field("\n\n", description="Put between the answers of one row's chunks")

    def reads(self, keys: dict[str, str]) -> list[str]:
        template = [column for column in self.prompt.columns() if column != "chunk"]
        return list(dict.fromkeys([*template, *(keys[k] for k in ("input_key",) if k in keys)]))

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        input_key: Read = "text",
        output_key: Write = "generated",
        chunk_count_key: Write = "chunk_count",
    ) -> dict[str, Any]:
        return {output_key: (result.text or "").strip()}

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        rows = df.select(self.reads(bound)).to_dicts()
        chunks = [chunk_text(row[bound["input_key"]] or "", self.max_chars) for row in rows]
        prompts = [self.prompt.render({**row, "chunk": c}) for row, cs in zip(rows, chunks, strict=True) for c in cs]
        answers = iter(samples[0] for samples in self.ask(llm, prompts))
        outputs = []
        for row, pieces in zip(rows, chunks, strict=True):
            results = [next(answers) for _ in pieces]
            failed = next(((i, r) for i, r in enumerate(results) if not r.ok), None)
            if failed is not None or not pieces:
                index, result = failed if failed else (0, None)
                reason = f"llm_{result.error}" if result else "empty_text"
                detail = f"chunk {index + 1}/{len(pieces)}: {result.error_message}" if result else "no text to prompt"
                outputs.append({FAILED: (reason, detail)})
                continue
            parsed = [self.parse(r, row, **bound)[bound["output_key"]] for r in results]
            outputs.append({bound["output_key"]: self.separator.join(parsed), bound["chunk_count_key"]: len(pieces)})
        return self._assemble(df, outputs, bound)


def chunk_text(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` characters, at paragraph breaks where possible, else at
    sentence ends, else anywhere; pieces are packed greedily and stripped."""
    units = [u for u in re.split(r"(\n\s*\n)", text) if u.strip()]
    pieces: list[str] = []
    for unit in units:
        if len(unit) <= limit:
            pieces.append(unit)
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", unit):
            pieces += [sentence[i : i + limit] for i in range(0, len(sentence), limit)]
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= limit:
            chunks[-1] = f"{chunks[-1]}\n\n{piece}"
        else:
            chunks.append(piece)
    return [chunk.strip() for chunk in chunks if chunk.strip()]
