from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl

from operators.base import Category, Operator, OpResult, Read, Write
from operators.embedder.protocol import Embedder
from operators.embedder.vectors import embed_columns, value_column
from operators.registry import register


@register("semantic_similarity")
class SemanticSimilarityEvaluator(Operator):
    """Score how close in meaning two text columns are: the cosine similarity of their embeddings, in [-1, 1].

    Both texts of a row are embedded with the embedder engine (one call for the step, cached by model and text) and
    the score is the cosine of the angle between the two vectors (their dot product, the embedder's being unit
    length; a zero vector scores 0). With all-MiniLM-L6-v2, five paraphrase pairs scored 0.58 to 0.95 and unrelated
    sentences -0.06 to 0.06; the scale depends on the model, so a threshold chosen for one model does not carry over
    to another. A row where either text is null gets null. Use it to check that an answer addresses its question,
    that a rewrite kept the meaning of the original, or to find near-duplicate pairs.
    """

    category: ClassVar[Category] = Category.EVALUATE
    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    row_local: ClassVar[bool] = True  # each row's vectors come from that row's text alone
    key_method: ClassVar[str] = "similarity"
    key_docs: ClassVar[dict[str, str]] = {
        "input_key": "the first text",
        "input_other_key": "the second text",
        "output_key": "cosine similarity of the two texts' embeddings in [-1, 1] (null where either is null)",
    }
    references: ClassVar[tuple[str, ...]] = ("Reimers & Gurevych 2019, Sentence-BERT, arXiv:1908.10084",)
    example: ClassVar[str] = (
        "scored = SemanticSimilarityEvaluator()(pairs, input_key='question', input_other_key='answer', "
        "output_key='relevance')"
    )

    def similarity(
        self,
        df: pl.DataFrame,
        embedder: Embedder,
        *,
        input_key: Read = "text",
        input_other_key: Read = "other_text",
        output_key: Write = "similarity",
    ) -> pl.Series:
        present, (first, second) = embed_columns(embedder, df[input_key], df[input_other_key])
        return value_column(output_key, _cosine(first, second), present)

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: str) -> OpResult:
        (df,) = frames
        return OpResult(kept=df.with_columns(self.similarity(df, embedder, **self.bind_keys(keys))))


def _cosine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity, in float64 and clipped to [-1, 1] (float32 rounding can step past 1)."""
    if not len(first):
        return np.empty(0)
    first, second = first.astype(np.float64), second.astype(np.float64)
    lengths = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    return np.clip(np.einsum("ij,ij->i", first, second) / np.where(lengths > 0, lengths, 1.0), -1.0, 1.0)
