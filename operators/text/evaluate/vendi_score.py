from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import DatasetEvaluator, Metrics, Read
from operators.embedder.protocol import Embedder
from operators.registry import register
from operators.text.embeddings import embed_texts


@register("vendi_score")
class VendiScoreEvaluator(DatasetEvaluator):
    """Measure a dataset's diversity as its Vendi score: the effective number of distinct items, over embeddings.

    Friedman & Dieng (2023): with K the n x n cosine-similarity matrix of the rows' embeddings (unit vectors,
    so K_ii = 1), the Vendi score is exp(-sum_i lambda_i log lambda_i) over the eigenvalues lambda_i of K / n,
    the exponential of the Shannon entropy of that spectrum: n for n orthogonal items, 1 for n copies of one.
    The eigenvalues are taken from the d x d matrix X^T X / n, which has the same non-zero spectrum, so the cost is
    linear in the rows. Metrics: ``vendi_score``, ``vendi_score_per_row`` (score / rows: comparable across sizes),
    ``rows`` (with a text; null texts are left out and counted in ``skipped_rows``). The score depends on the
    embedding model: compare datasets scored with the same embedder.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    references: ClassVar[tuple[str, ...]] = (
        "Friedman & Dieng, The Vendi Score: A Diversity Evaluation Metric for Machine Learning, TMLR 2023",
    )

    max_rows: int = Field(100_000, ge=2, description="Rows embedded at most (a seeded sample of a larger dataset)")
    seed: int = Field(0, description="Seed of the sample when the dataset has more than max_rows rows")

    def evaluate(self, df: pl.DataFrame, embedder: Embedder, *, input_key: Read = "text") -> Metrics:
        texts = df[input_key].drop_nulls()
        if texts.len() > self.max_rows:
            texts = texts.sample(self.max_rows, seed=self.seed)
        values = {"rows": float(texts.len()), "skipped_rows": float(df[input_key].null_count())}
        if texts.len() == 0:
            return Metrics(values)
        score = vendi(embed_texts(embedder, texts))
        return Metrics(values | {"vendi_score": score, "vendi_score_per_row": score / texts.len()})


def vendi(vectors: np.ndarray) -> float:
    """The Vendi score of unit row vectors (order q = 1)."""
    x = vectors.astype(np.float64)
    eigenvalues = np.linalg.eigvalsh(x.T @ x / len(x))
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-(eigenvalues * np.log(eigenvalues)).sum()))
