from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import Evaluator, OpResult, Read, Write
from operators.classifier.protocol import Classifier
from operators.errors import DataflowError
from operators.registry import register


@register("classifier_score")
class ClassifierScoreEvaluator(Evaluator):
    """Score each text with a sequence-classification or regression model run by the ``classifier`` engine: the
    FineWeb-Edu educational score, a DeBERTa-style quality classifier, a reward model.

    The engine loads the user's model folder (nothing is downloaded). Output: ``output_key`` holds the regression
    value (a regression head), or the probability of ``label`` (a classifier, when ``label`` is given), or the
    probability-weighted mean of ``label_values`` (e.g. ``{"Low": 0, "Medium": 1, "High": 2}``: an expected
    grade), else the top class's probability; ``label_key`` holds the top class (null for regression). With
    ``pair`` the model reads (``input_key``, ``pair_key``) as two segments, as a reward model reads instruction
    and response. Recipes: FineWeb-Edu's classifier (HuggingFaceFW/fineweb-edu-classifier, a regression head)
    gives 0-5, keep ``>= 3`` with ``row_filter``; NVIDIA's quality-classifier-deberta gives Low/Medium/High
    (``label_values``); a sequence-classification reward model (one logit) gives its reward. Deita's scorers and
    InsTag are generative models: use the LLM templates (``templates.DEITA_*``, ``templates.INSTAG``). A null text
    gets null.
    """

    engines: ClassVar[tuple[str, ...]] = ("classifier",)
    key_method: ClassVar[str] = "scored_keys"
    references: ClassVar[tuple[str, ...]] = (
        "Penedo et al., The FineWeb Datasets, NeurIPS 2024 (the FineWeb-Edu classifier)",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "output_key": "the model's score (regression value, a label's probability, or an expected label value)",
        "label_key": "the most probable class (null for a regression model)",
    }

    label: str | None = Field(None, description="Class whose probability is the score (classifiers)")
    label_values: dict[str, float] | None = Field(
        None, description="Value of each class; the score is their probability-weighted mean (classifiers)"
    )
    pair: bool = Field(False, description="Score (input_key, pair_key) text pairs, e.g. instruction and response")

    def scored_keys(
        self,
        *,
        input_key: Read = "text",
        pair_key: Read = "response",
        output_key: Write = "classifier_score",
        label_key: Write = "classifier_label",
    ) -> None:
        """The key bindings (the work needs the engine, so it is done in :meth:`run`)."""

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [keys["input_key"], *([keys["pair_key"]] if self.pair else [])]

    def run(self, *frames: pl.DataFrame, classifier: Classifier, **keys: Any) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        valid = df[bound["input_key"]].is_not_null()
        if self.pair:
            valid &= df[bound["pair_key"]].is_not_null()
        rows = np.flatnonzero(valid.to_numpy())
        texts = df[bound["input_key"]].gather(rows).to_list()
        pairs = df[bound["pair_key"]].gather(rows).to_list() if self.pair else None
        scores = classifier.classify(texts, pairs) if len(rows) else np.empty((0, len(classifier.labels)))
        value, top = self._reduce(scores, classifier)
        output = np.full(df.height, np.nan)
        output[rows] = value
        labels = [None] * df.height
        for row, name in zip(rows.tolist(), top, strict=True):
            labels[row] = name
        score_column = pl.Series(bound["output_key"], output).fill_nan(None)
        return OpResult(kept=df.with_columns(score_column, pl.Series(bound["label_key"], labels, dtype=pl.String)))

    def _reduce(self, scores: np.ndarray, classifier: Classifier) -> tuple[np.ndarray, list[str | None]]:
        labels = list(classifier.labels)
        if classifier.regression:
            return scores[:, 0].astype(np.float64), [None] * len(scores)
        top = [labels[i] for i in scores.argmax(axis=1)] if len(scores) else []
        if self.label is not None:
            if self.label not in labels:
                raise DataflowError(f"classifier_score: label {self.label!r} is not a label of {classifier.identity}",
                                    hint=f"the model's labels are {labels}")  # fmt: skip
            return scores[:, labels.index(self.label)].astype(np.float64), top
        if self.label_values is not None:
            weights = np.array([self.label_values.get(name, np.nan) for name in labels])
            if np.isnan(weights).any():
                raise DataflowError("classifier_score: label_values leaves out a label of the model",
                                    hint=f"give a value for each of {labels}")  # fmt: skip
            return (scores @ weights).astype(np.float64), top
        return scores.max(axis=1).astype(np.float64), top
