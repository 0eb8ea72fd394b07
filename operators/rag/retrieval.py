"""What the retrieval operators share: the index step's row and how a query step opens the index it names.

The index step (``build_index``) writes one row per index: its location and fingerprint. A query step takes that
table as its second input, so it names the index it searched in its own lineage and Dagster marks it stale when the
index is rebuilt; ``open_indexes`` turns the row(s) into retrievers, one per partition when the index step was
partitioned (a query row searches its own partition's index), else one for every row.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from operators.columns import PARTITION
from operators.errors import DataflowError
from operators.retriever.protocol import IndexStore, Retriever

INDEX_COLUMNS = ("index_fingerprint", "index_passages", "index_embedder", "index_reused")
"""Columns of the index step's row besides the location (its ``output_key``)."""


def query_columns(available: list[str], index_key: str, writes: list[str]) -> list[str]:
    """A query step's output columns: its first input's (the index row's own columns left out) and what it writes."""
    dropped = {index_key, *INDEX_COLUMNS}
    return [c for c in available if c not in dropped] + [c for c in writes if c not in available]


def open_indexes(
    rows: pl.DataFrame, index: pl.DataFrame, index_key: str, retriever: IndexStore, embedder: Any
) -> list[Retriever]:
    """The retriever for each of ``rows``."""
    if index.height == 0:
        raise DataflowError("the index input has no index row", hint="materialize the index step first")
    by_partition = (
        dict(zip(index[PARTITION], index[index_key], strict=True))
        if PARTITION in index.columns and index[PARTITION].null_count() == 0
        else None
    )
    if by_partition is None and index.height > 1:
        raise DataflowError(f"the index input has {index.height} index rows and no partitions to tell them apart")
    opened: dict[str, Retriever] = {}

    def retriever_for(partition: str | None) -> Retriever:
        location = index[index_key][0] if by_partition is None else by_partition.get(partition)
        if location is None:
            raise DataflowError(f"no index was built for partition {partition!r}", hint="materialize the index step")
        if location not in opened:
            opened[location] = retriever.open(location, embedder=embedder)
        return opened[location]

    partitions = rows[PARTITION].to_list() if PARTITION in rows.columns else [None] * rows.height
    return [retriever_for(p) for p in partitions]


def search_rows(retrievers: list[Retriever], queries: list[str], k: int) -> list[list[Any]]:
    """Search each query in its retriever, batching the queries that share one."""
    hits: list[list[Any]] = [[] for _ in queries]
    groups: dict[int, list[int]] = {}
    for position, retriever in enumerate(retrievers):
        groups.setdefault(id(retriever), []).append(position)
    for positions in groups.values():
        found = retrievers[positions[0]].search([queries[p] for p in positions], k)
        for position, result in zip(positions, found, strict=True):
            hits[position] = result
    return hits
