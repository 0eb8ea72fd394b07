from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Filter, OpResult, Read, Rule, apply_prepared_rules
from operators.rag.retrieval import open_indexes, query_columns, search_rows
from operators.registry import register
from operators.retriever.protocol import IndexStore

_RECALL, _DETAIL = "__support_recall", "__support_detail"


@register("retrieval_support")
class RetrievalSupportFilter(Filter):
    """Keep a question only if the passages it was built from are retrievable for it: verification by retrieval.

    The question is searched in the index built upstream (second input); the share of its supporting chunks
    (``support_key``, a list of chunk row ids) found among the top ``k`` is its ``support_recall``. A question
    whose evidence a retriever cannot find is useless for training a retrieval agent (it rewards guessing), so
    rows under ``min_recall`` are rejected as ``support_not_retrieved`` with the ids missed. DataFlow's agentic RAG
    pipeline checks answerability with the gold document in context but not that retrieval can find it.
    """

    engines: ClassVar[tuple[str, ...]] = ("retriever", "embedder")
    inputs: ClassVar[int | None] = 2
    row_local: ClassVar[bool] = False
    key_docs = {
        "input_key": "the question",
        "support_key": "row ids of the chunks the question was built from",
        "index_key": "the index location column of the index step's table",
    }

    k: int = Field(10, ge=1, description="Depth of the search the supporting chunks must appear in")
    min_recall: float = Field(1.0, gt=0, le=1, description="Share of the supporting chunks that must be retrieved")

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        return query_columns(available, keys["index_key"], [])

    def rules(
        self, *, input_key: Read = "question", support_key: Read = "chunk_ids", index_key: Read = "index"
    ) -> dict[str, Rule]:
        recall = pl.col(_RECALL)
        return {
            "support_not_retrieved": Rule(
                score=recall.alias("support_recall"), keep=recall >= self.min_recall, detail=pl.col(_DETAIL)
            )
        }

    def run(self, *frames: pl.DataFrame, retriever: IndexStore, embedder: Any, **keys: str) -> OpResult:
        rows, index = frames
        bound = self.bind_keys(keys)
        retrievers = open_indexes(rows, index, bound["index_key"], retriever, embedder)
        hits = search_rows(retrievers, rows[bound["input_key"]].to_list(), self.k)
        recalls, details = [], []
        for support, found in zip(rows[bound["support_key"]].to_list(), hits, strict=True):
            retrieved = {h.row_id for h in found}
            missed = [s for s in support or [] if s not in retrieved]
            recalls.append(1 - len(missed) / len(support) if support else 0.0)
            details.append(f"not in the top {self.k}: {missed}" if support else "the row names no supporting chunk")
        prepared = rows.with_columns(pl.Series(_RECALL, recalls, pl.Float64), pl.Series(_DETAIL, details, pl.String))
        return apply_prepared_rules(rows, prepared, self.rules(**bound))
