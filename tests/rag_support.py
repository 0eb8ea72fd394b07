"""A deterministic embedder for the control-flow tests of chunking and retrieval (the behaviour tests use the real
model): hashed bags of lower-cased words, L2-normalised, so texts sharing words are close and others are not."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from operators.engines import CounterUsage


class HashingEmbedder:
    identity = "test:hashing-64"
    dimensions = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def usage(self) -> CounterUsage:
        return CounterUsage({"calls": float(self.calls), "texts": float(self.texts)})
