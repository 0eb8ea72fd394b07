from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import OpResult, Read, Refiner, Write
from operators.rag.retrieval import open_indexes, query_columns, search_rows
from operators.registry import register
from operators.retriever.protocol import IndexStore


@register("retrieve")
class RetrieveRefiner(Refiner):
    """Retrieve the ``k`` best passages for each row's query from an index built upstream (``build_index``).

    Takes two inputs: the rows and the index step's table. Adds the passages' row ids, best first, and their fused
    scores, so a later step (answering with the retrieved context, a recall evaluator) reads what was retrieved.
    """

    engines: ClassVar[tuple[str, ...]] = ("retriever", "embedder")
    inputs: ClassVar[int | None] = 2
    key_method: ClassVar[str] = "search"
    key_docs = {
        "input_key": "the query text",
        "index_key": "the index location column of the index step's table",
        "output_key": "row ids of the retrieved passages, best first",
        "output_scores_key": "their scores (reciprocal rank fusion in hybrid mode)",
    }
    example = "questions = self.retrieve(questions, index, input_key='question')"

    k: int = Field(10, ge=1, description="Passages retrieved per query")

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        return query_columns(available, keys["index_key"], self.writes(keys))

    def search(
        self,
        rows: pl.DataFrame,
        index: pl.DataFrame,
        retriever: IndexStore,
        embedder: Any,
        *,
        input_key: Read = "question",
        index_key: Read = "index",
        output_key: Write = "retrieved_ids",
        output_scores_key: Write = "retrieved_scores",
    ) -> pl.DataFrame:
        hits = search_rows(open_indexes(rows, index, index_key, retriever, embedder), rows[input_key].to_list(), self.k)
        return rows.with_columns(
            pl.Series(output_key, [[h.row_id for h in found] for found in hits], dtype=pl.List(pl.String)),
            pl.Series(output_scores_key, [[h.score for h in found] for found in hits], dtype=pl.List(pl.Float64)),
        )

    def run(self, *frames: pl.DataFrame, retriever: IndexStore, embedder: Any, **keys: str) -> OpResult:
        rows, index = frames
        return OpResult(kept=self.search(rows, index, retriever, embedder, **self.bind_keys(keys)))
