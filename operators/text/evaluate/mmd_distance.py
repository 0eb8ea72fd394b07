from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import DatasetEvaluator, Metrics, Read
from operators.embedder.protocol import Embedder
from operators.registry import register
from operators.text.embeddings import embed_texts


@register("mmd_distance")
class MmdDistanceEvaluator(DatasetEvaluator):
    """Measure how far one dataset is from another: the maximum mean discrepancy (MMD) of their embeddings.

    Takes two datasets (the judged one first, the reference second). Gretton et al. (2012): with a Gaussian
    kernel k(x, y) = exp(-|x - y|^2 / (2 sigma^2)), MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y); the unbiased
    estimate leaves out each set's diagonal. sigma is the median distance between the pooled embeddings (the
    median heuristic) unless ``bandwidth`` is given. Metrics: ``mmd2`` (0 for samples of one distribution; it can
    dip just below 0 from sampling), ``mmd`` (its square root, clipped at 0), ``bandwidth``, ``rows`` and
    ``reference_rows``. Each dataset is sampled to ``max_rows`` (the cost is quadratic). DataFlow's
    ``MMDDatasetEvaluator`` compares two SFT datasets the same way with its own embedding model; here the
    embeddings come from the ``embedder`` engine.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    inputs: ClassVar[int | None] = 2
    references: ClassVar[tuple[str, ...]] = ("Gretton et al., A Kernel Two-Sample Test, JMLR 13, 2012",)

    max_rows: int = Field(5000, ge=2, description="Rows of each dataset used at most (a seeded sample)")
    bandwidth: float | None = Field(None, gt=0, description="Kernel width sigma; None: the median heuristic")
    seed: int = Field(0, description="Seed of the samples")

    def evaluate(
        self, df: pl.DataFrame, reference: pl.DataFrame, embedder: Embedder, *, input_key: Read = "text"
    ) -> Metrics:
        x, y = (embed_texts(embedder, self._sample(frame[input_key])) for frame in (df, reference))
        values = {"rows": float(len(x)), "reference_rows": float(len(y))}
        if len(x) < 2 or len(y) < 2:
            return Metrics(values)
        mmd2, sigma = mmd_squared(x, y, self.bandwidth)
        return Metrics(values | {"mmd2": mmd2, "mmd": max(mmd2, 0.0) ** 0.5, "bandwidth": sigma})

    def _sample(self, texts: pl.Series) -> pl.Series:
        texts = texts.drop_nulls()
        return texts.sample(self.max_rows, seed=self.seed) if texts.len() > self.max_rows else texts


def mmd_squared(x: np.ndarray, y: np.ndarray, bandwidth: float | None = None) -> tuple[float, float]:
    """Unbiased MMD^2 of two samples under a Gaussian kernel, and the kernel width used."""
    pooled = np.concatenate([x, y]).astype(np.float64)
    squares = (pooled**2).sum(axis=1)
    distances = np.maximum(squares[:, None] + squares[None, :] - 2 * pooled @ pooled.T, 0)
    if bandwidth is None:
        upper = distances[np.triu_indices(len(pooled), 1)]
        bandwidth = float(np.sqrt(np.median(upper))) or 1.0
    kernel = np.exp(-distances / (2 * bandwidth**2))
    n, m = len(x), len(y)
    kxx, kyy, kxy = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    within_x = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within_x + within_y - 2 * kxy.mean()), bandwidth
