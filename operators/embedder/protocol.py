"""The one call embedding operators make, whatever computes the vectors.

``resources.embedder`` implements it with sentence-transformers on the CPU (the default: all-MiniLM-L6-v2, shipped
in a PyPI package, nothing downloaded) or an OpenAI-compatible ``/v1/embeddings`` endpoint, with a content cache;
tests may implement it with a deterministic fake for control flow, and use the real model for behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Embed texts into unit-length float32 vectors, one row per text, in order."""

    @property
    def identity(self) -> str:
        """Which model makes the vectors, e.g. ``sentence-transformers:all-MiniLM-L6-v2``."""
        ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape ``(len(texts), dimensions)``, dtype float32, each row L2-normalised (so a dot product
        is the cosine similarity)."""
        ...
