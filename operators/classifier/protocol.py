"""The one call classifier-backed operators make, whatever runs the model.

``resources.classifier`` implements it with Hugging Face transformers on the CPU build of torch, from a model
folder the user gives (nothing is downloaded), with batching and a content cache. Tests implement it with a tiny
model they build in a temporary folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Classifier(Protocol):
    """Score texts (or text pairs) with a sequence classification or regression model."""

    @property
    def identity(self) -> str:
        """Which model scores, e.g. ``transformers:fineweb-edu-classifier@3f2a...`` (a hash of its files)."""
        ...

    @property
    def labels(self) -> tuple[str, ...]:
        """One name per output column: the class labels, or a single name for a regression head."""
        ...

    @property
    def regression(self) -> bool:
        """True for a regression head (raw values), False for classification (probabilities)."""
        ...

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> np.ndarray:
        """``(len(texts), len(labels))`` float32: class probabilities (softmax; sigmoid for a multi-label model)
        or regression values. ``pairs`` gives each text a second segment (instruction and response for a reward
        model)."""
        ...
