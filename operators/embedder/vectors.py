"""Columns of texts to vectors and back, for operators that use the ``Embedder`` engine.

A null text has no vector: it is not sent to the embedder and its row gets null (an empty string is a text, and is
embedded). All the texts of one step go to the embedder in one call, so the embedder batches, deduplicates and
caches across columns and reports the step's progress as one task.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from operators.embedder.protocol import Embedder

VECTOR = pl.List(pl.Float32)
"""The polars type of an embedding column (a Delta list of floats)."""


def embed_columns(embedder: Embedder, *columns: pl.Series) -> tuple[pl.Series, list[np.ndarray]]:
    """The rows where every column has a text, and each column's vectors for those rows (one matrix per column)."""
    present = pl.Series([True] * len(columns[0]), dtype=pl.Boolean)
    for column in columns:
        present &= column.is_not_null()
    texts = [text for column in columns for text in column.filter(present).to_list()]
    if not texts:  # no call: the model is not loaded for nothing
        return present, [np.empty((0, 0), dtype=np.float32) for _ in columns]
    vectors = embedder.embed(texts)
    rows = int(present.sum())
    return present, [vectors[i * rows : (i + 1) * rows] for i in range(len(columns))]


def vector_column(name: str, vectors: np.ndarray, present: pl.Series) -> pl.Series:
    """A ``List(Float32)`` column: the rows of ``vectors`` where ``present``, in order, and null elsewhere."""
    if not len(vectors):
        return pl.Series(name, [None] * len(present), dtype=VECTOR)
    values = pl.Series(name, vectors).cast(VECTOR)
    if present.all():
        return values
    position = (present.cast(pl.Int64).cum_sum() - 1).clip(0)
    return pl.select(pl.when(present).then(values.gather(position))).to_series().alias(name)


def value_column(name: str, values: np.ndarray, present: pl.Series) -> pl.Series:
    """A ``Float64`` column: ``values`` where ``present``, in order, and null elsewhere."""
    filled = np.full(len(present), np.nan)
    filled[present.to_numpy()] = values
    return pl.Series(name, filled).fill_nan(None)
