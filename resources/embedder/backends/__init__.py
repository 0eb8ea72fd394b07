"""What an embedding backend must do: turn one batch of texts into vectors, or fail with a classified error.

Backends raise :class:`resources.llm.backend.CallError` (the LLM backends' error, whose kind says whether to retry,
give up or stop); the client does the caching, batching, retrying, normalising and counting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Batch:
    vectors: np.ndarray
    """``(len(texts), dimensions)`` float32, as the model gives them (not normalised here)."""
    tokens: int = 0
    """Input tokens the server counted (0 where it does not say)."""


class EmbeddingBackend(Protocol):
    @property
    def identity(self) -> str:
        """Which model makes the vectors; part of every cache key, so it must change when the vectors would."""
        ...

    @property
    def dimensions(self) -> int | None:
        """The vector length, or None until known (an HTTP backend learns it from its first answer)."""
        ...

    @property
    def max_parallel(self) -> int:
        """How many ``embed_batch`` calls may run at once (1 for an in-process model)."""
        ...

    def embed_batch(self, texts: Sequence[str]) -> Batch: ...
