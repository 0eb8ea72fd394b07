"""Embedding a text column through the ``embedder`` engine for the operators that measure or select by meaning
(Vendi score, MMD, BERTScore-style matching, semantic dedup, k-center selection).

Each distinct text is embedded once (datasets repeat texts); the engine's own cache spares repeated runs.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from operators.embedder.protocol import Embedder


def embed_texts(embedder: Embedder, texts: pl.Series | list[str]) -> np.ndarray:
    """(len(texts), dimensions) unit vectors of non-null texts, one row per text, in order."""
    values = texts.to_list() if isinstance(texts, pl.Series) else list(texts)
    if not values:
        return np.empty((0, embedder.dimensions), np.float32)
    distinct = list(dict.fromkeys(values))
    vectors = np.asarray(embedder.embed(distinct), dtype=np.float32)
    index = {text: i for i, text in enumerate(distinct)}
    return vectors[[index[text] for text in values]]
