"""``ClassifierResource``: the configurable Dagster resource classifier steps use; it implements the operators'
``Classifier`` protocol itself, and ``build_client()`` gives the same client outside Dagster."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import numpy as np
from pydantic import Field, PrivateAttr

from operators.errors import DataflowError
from resources.classifier.client import LocalClassifier
from resources.client_resource import ClientResource


class ClassifierResource(ClientResource[LocalClassifier], dg.ConfigurableResource):
    model_path: str = Field("", description="Folder of a Hugging Face sequence-classification model (the user's)")
    batch_size: int = Field(32, ge=1, description="Texts per forward pass")
    max_length: int = Field(512, ge=8, description="Tokens per text; longer texts are truncated")
    cache_enabled: bool = Field(True, description="Reuse scores of identical texts across runs")
    cache_path: str = Field("data/classifier_cache.sqlite", description="SQLite file of the score cache")
    torch_threads: int | None = Field(None, ge=1, description="torch CPU threads (None: torch's default)")

    _client: LocalClassifier | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, data_root: Path) -> ClassifierResource:
        """The shipped definitions' classifier: ``DATAFLOW_CLASSIFIER_MODEL`` (a model folder; no default, as no
        weights ship with the project), the score cache beside the Delta root. Loaded on first use."""
        return cls(
            model_path=os.environ.get("DATAFLOW_CLASSIFIER_MODEL", ""),
            cache_path=str(Path(data_root).parent / "classifier_cache.sqlite"),
        )

    def build_client(self) -> LocalClassifier:
        if not self.model_path:
            raise DataflowError(
                "the classifier engine has no model",
                hint="set DATAFLOW_CLASSIFIER_MODEL (or the resource's model_path) to a local model folder; "
                "without weights, use the LLM-judge templates of operators/text/templates.py instead",
            )
        return LocalClassifier(
            self.model_path,
            batch_size=self.batch_size,
            max_length=self.max_length,
            cache_path=self.cache_path if self.cache_enabled else None,
            torch_threads=self.torch_threads,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return self.client.labels

    @property
    def regression(self) -> bool:
        return self.client.regression

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> np.ndarray:
        return self.client.classify(texts, pairs)
