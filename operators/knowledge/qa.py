"""What the QA generators over chunks share: one prompt per chunk (or per run of chunks of one document), the
chunks' ids and provenance carried onto every generated item.

Each prompt is built with the ids of the chunks it shows, and the items of its answer are attached to those ids
and nothing else (``LLMItemsGenerator`` keeps prompts and answers paired): a failed or unparseable answer is a
rejected row of its own and cannot shift the next chunk's pairs onto the wrong chunk, the bug DataFlow's
``Text2QAGenerator`` has (it zips the surviving answers with the original rows after dropping failures).
"""

from __future__ import annotations

from typing import Any, ClassVar

import polars as pl

from operators.base import Read
from operators.columns import PARTITION, ROW_ID, SOURCE_FILE
from operators.llm.base import AnswerError
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.protocol import LLMResult

PROVENANCE = {
    PARTITION: pl.String(),
    "chunk_ids": pl.List(pl.String),
    "context": pl.String(),
    SOURCE_FILE: pl.String(),
    "page_start": pl.Int64(),
    "page_end": pl.Int64(),
    "start": pl.Int64(),
    "end": pl.Int64(),
}
"""Carried onto every generated item: its partition, the chunks it came from, their text, file, pages and offsets
(of the first chunk's start and the last chunk's end), so a QA row leads back to the exact passage."""

PROVENANCE_DOCS = {
    "chunk_ids": "row ids of the chunks the item was generated from",
    "context": "the text of those chunks, as the model saw it",
}


def carried(group: pl.DataFrame, text_key: str) -> dict[str, Any]:
    """The provenance of a run of chunks (one chunk, or consecutive chunks of one document)."""
    first, last = group.row(0, named=True), group.row(group.height - 1, named=True)
    return {
        PARTITION: first.get(PARTITION),
        "chunk_ids": group[ROW_ID].to_list(),
        "context": "\n\n".join(group[text_key].to_list()),
        SOURCE_FILE: first.get(SOURCE_FILE),
        "page_start": first.get("page_start"),
        "page_end": last.get("page_end"),
        "start": first.get("start"),
        "end": last.get("end"),
    }


class _ChunkItemsGenerator(LLMItemsGenerator):
    """Base: ``count`` items per chunk, each a new row carrying the chunk's provenance; items whose required
    string properties are empty make the whole answer unusable (rejected with the answer text)."""

    inputs: ClassVar[int | None] = 1
    key_method: ClassVar[str] = "build_prompts"
    carried_columns: ClassVar[dict[str, pl.DataType]] = PROVENANCE
    key_docs = {"input_key": "the chunk text the items are generated from", **PROVENANCE_DOCS}

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [keys["input_key"]]

    def windows(self, df: pl.DataFrame) -> list[pl.DataFrame]:
        """The runs of chunks each prompt shows: every chunk on its own by default."""
        return [df.slice(index, 1) for index in range(df.height)]

    def build_prompts(self, df: pl.DataFrame, *, input_key: Read = "chunk") -> list[ItemsPrompt]:
        """A prompt per window; the template gets ``chunk`` (the window's text), ``passages`` (its chunks' texts)
        and ``count``."""
        prompts = []
        for window in self.windows(df):
            provenance = carried(window, input_key)
            values = {"chunk": provenance["context"], "passages": window[input_key].to_list(), "count": self.count}
            prompts.append(ItemsPrompt(self.prompt.render(values), window[ROW_ID].to_list(), provenance))
        return prompts

    def parse_items(self, result: LLMResult) -> list[dict[str, Any]]:
        items = super().parse_items(result)
        properties = self.item_schema["properties"]
        required = [k for k in self.item_schema.get("required", []) if properties.get(k, {}).get("type") == "string"]
        for item in items:
            empty = [k for k in required if not str(item.get(k) or "").strip()]
            if empty:
                raise AnswerError(f"an item has empty {', '.join(empty)}")
        return items
