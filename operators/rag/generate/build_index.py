from __future__ import annotations

from typing import Any, ClassVar

import polars as pl

from operators.base import Generator, OpResult, Read, Write, assign_generated_ids
from operators.columns import PARENT_IDS, PARTITION, ROW_ID
from operators.rag.retrieval import INDEX_COLUMNS
from operators.registry import register
from operators.retriever.protocol import IndexStore


@register("build_index")
class BuildIndexGenerator(Generator):
    """Build a hybrid search index (BM25 fused with the embedder's vectors) over a table of passages: an asset.

    The ``retriever`` engine stores the index beside the Delta tables, keyed by a fingerprint of the passages, so
    an unchanged chunk table reuses the index already built and a changed one gets a new one. The step's table is
    one row per index (one per partition for a partitioned step): its location in ``output_key``, the fingerprint,
    the number of passages and the embedder, with every indexed passage in ``_parent_ids``. Query steps
    (``retrieve``, ``retrieval_support``) take this table as their second input.
    """

    engines: ClassVar[tuple[str, ...]] = ("retriever", "embedder")
    key_method: ClassVar[str] = "index"
    key_docs = {
        "input_key": "the passage text to index",
        "output_key": "the index's location (a folder beside the Delta tables)",
    }
    example = "index = self.index(chunks.all_partitions(), input_key='chunk')"

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        partition = [PARTITION] if PARTITION in available else []
        return [ROW_ID, PARENT_IDS, *partition, keys["output_key"], *INDEX_COLUMNS]

    def index(
        self,
        df: pl.DataFrame,
        retriever: IndexStore,
        embedder: Any,
        *,
        input_key: Read = "chunk",
        output_key: Write = "index",
    ) -> pl.DataFrame:
        groups = df.partition_by(PARTITION, maintain_order=True) if PARTITION in df.columns else [df]
        rows = []
        for group in groups:
            ids = group[ROW_ID].to_list()
            info = retriever.build(ids, group[input_key].to_list(), embedder=embedder)
            rows.append(
                {
                    **({PARTITION: group[PARTITION][0]} if PARTITION in group.columns else {}),
                    output_key: info.location,
                    "index_fingerprint": info.fingerprint,
                    "index_passages": info.passages,
                    "index_embedder": info.embedder,
                    "index_reused": info.reused,
                    PARENT_IDS: ids,
                }
            )
        return pl.DataFrame(rows)

    def run(self, *frames: pl.DataFrame, retriever: IndexStore, embedder: Any, **keys: str) -> OpResult:
        bound = self.bind_keys(keys)
        built = self.index(frames[0], retriever, embedder, **bound)
        return OpResult(kept=assign_generated_ids(built, salt=self.fingerprint(bound)))
