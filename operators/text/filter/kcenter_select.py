from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import Filter, OpResult, Read, Rule, apply_rules
from operators.columns import ROW_ID
from operators.embedder.protocol import Embedder
from operators.registry import register
from operators.text.embeddings import embed_texts

_SELECTED, _DISTANCE, _NEAREST = "__kcenter_selected", "__kcenter_distance", "__kcenter_nearest"


@register("kcenter_select")
class KCenterSelectFilter(Filter):
    """Keep the ``size`` most diverse rows (k-center greedy over embeddings); every other row names the kept row
    nearest to it.

    Sener & Savarese (2018), core-set selection: start from one row (the one nearest the mean embedding, so the
    choice does not depend on row order), then repeatedly add the row farthest from everything kept so far
    (largest cosine distance to its nearest kept row), until ``size`` rows are kept. The kept rows cover the
    dataset: no row is farther from a kept row than the last distance added (a 2-approximation of the best such
    radius). Ties go to the smaller ``_row_id``. Rejection ``not_selected``: the score is the row's cosine
    distance to its nearest kept row, the detail ``nearest=<row id>``. Null texts are rejected (no embedding).
    Cost: ``size`` passes of one matrix-vector product over all rows. DataFlow's ``KCenterGreedyFilter`` does the
    same with its own embedding model and drops the rest silently.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    row_local: ClassVar[bool] = False
    references: ClassVar[tuple[str, ...]] = (
        "Sener & Savarese, Active Learning for Convolutional Neural Networks: A Core-Set Approach, ICLR 2018",
    )

    size: int = Field(ge=1, description="Rows to keep")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        """The rule over the columns :meth:`run` computes from ``input_key``'s embeddings and adds first."""
        return {
            "not_selected": Rule(
                score=pl.col(_DISTANCE).alias("kcenter_distance"),
                keep=pl.col(_SELECTED),
                detail=pl.format("nearest={}", pl.col(_NEAREST)),
            )
        }

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: Any) -> OpResult:
        (df,) = frames
        input_key = self.bind_keys(keys)["input_key"]
        judged = df.with_row_index("__position").filter(pl.col(input_key).is_not_null()).sort(ROW_ID)
        selected, distance, nearest = k_center(embed_texts(embedder, judged[input_key]), self.size)
        helpers = pl.DataFrame(
            {
                "__position": judged["__position"],
                _SELECTED: selected,
                _DISTANCE: distance,
                _NEAREST: judged[ROW_ID].gather(nearest),
            }
        )
        full = df.with_row_index("__position").join(helpers, on="__position", how="left").drop("__position")
        result = apply_rules(full, self.rules(input_key=input_key))
        helper_columns = [_SELECTED, _DISTANCE, _NEAREST]
        return OpResult(
            kept=result.kept.drop(helper_columns), rejected=result.rejected.drop(helper_columns), scores=result.scores
        )


def k_center(vectors: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy k-center on unit vectors: whether each row is selected, its cosine distance to the nearest selected
    row, and that row's index."""
    count = len(vectors)
    selected = np.zeros(count, bool)
    if count == 0:
        return selected, np.empty(0), np.empty(0, np.int64)
    x = vectors.astype(np.float64)
    first = int(np.argmax(x @ x.mean(axis=0)))
    distance, nearest = 1 - x @ x[first], np.full(count, first)
    selected[first] = True
    for _ in range(min(size, count) - 1):
        farthest = int(np.argmax(np.where(selected, -np.inf, distance)))  # argmax takes the first (smallest id)
        selected[farthest] = True
        to_new = 1 - x @ x[farthest]
        closer = to_new < distance
        distance, nearest = np.where(closer, to_new, distance), np.where(closer, farthest, nearest)
    distance[selected] = 0.0
    nearest[selected] = np.flatnonzero(selected)
    return selected, np.clip(distance, 0, 2), nearest
