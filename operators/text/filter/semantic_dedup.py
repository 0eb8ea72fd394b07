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

_KEPT, _CLUSTER, _SIMILARITY = "__semdedup_kept", "__semdedup_cluster", "__semdedup_similarity"


@register("semantic_dedup")
class SemanticDedupFilter(Filter):
    """Remove semantic duplicates (SemDeDup): rows whose embeddings are nearly parallel, within k-means clusters;
    each removed row names the row kept in its place.

    Abbas et al. (2023): embed every row, cluster the embeddings with k-means, and inside each cluster treat two
    rows whose cosine similarity is at least ``threshold`` (1 - epsilon in the paper) as duplicates; clustering
    first keeps the pairwise work to the clusters' sizes. Here duplicates are linked transitively within a cluster
    (A~B and B~C make one group) and each group keeps its smallest ``_row_id``, so decisions do not depend on row
    order (the paper keeps the row least similar to the cluster centroid). k-means (scikit-learn, k-means++ with
    ``seed``) uses ``clusters`` centroids, by default about the square root of the rows; near-duplicates split
    across two clusters are not found, as in the paper. Rejection ``semantic_duplicate``: the score is the cosine
    with the kept row, the detail ``cluster=<n>;kept=<row id>``. Null texts are rejected (they cannot be
    embedded). Cost: one embedding per distinct text, then per cluster a similarity matrix of its rows.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    row_local: ClassVar[bool] = False
    requires: ClassVar[tuple[str, ...]] = ("sklearn",)
    extra: ClassVar[str | None] = "text"
    references: ClassVar[tuple[str, ...]] = (
        "Abbas, Tirumala, Simig, Ganguli & Morcos, SemDeDup: Data-efficient learning at web-scale through "
        "semantic deduplication, arXiv:2303.09540, 2023",
    )

    threshold: float = Field(0.95, gt=0, le=1, description="Least cosine similarity of two duplicates (1 - epsilon)")
    clusters: int | None = Field(None, ge=1, description="k-means clusters; None: about sqrt(rows)")
    seed: int = Field(0, description="Seed of k-means")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        """The rule over the columns :meth:`run` computes from ``input_key``'s embeddings and adds first."""
        return {
            "semantic_duplicate": Rule(
                score=pl.col(_SIMILARITY).alias("semantic_similarity"),
                keep=pl.col(ROW_ID) == pl.col(_KEPT),
                detail=pl.format("cluster={};kept={}", pl.col(_CLUSTER), pl.col(_KEPT)),
            )
        }

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: Any) -> OpResult:
        (df,) = frames
        input_key = self.bind_keys(keys)["input_key"]
        judged = df.with_row_index("__position").filter(pl.col(input_key).is_not_null()).sort(ROW_ID)
        vectors = embed_texts(embedder, judged[input_key])
        kept, similarity, cluster = _groups(vectors, self._cluster_labels(vectors), self.threshold)
        in_group = pl.col("size") > 1
        helpers = pl.DataFrame(
            {
                "__position": judged["__position"],
                _KEPT: judged[ROW_ID].gather(kept),
                "size": np.bincount(kept, minlength=len(kept))[kept],
                "cluster": cluster,
                "similarity": similarity,
            }
        ).select(
            "__position",
            _KEPT,
            pl.when(in_group).then(pl.col("cluster")).alias(_CLUSTER),
            pl.when(in_group).then(pl.col("similarity")).alias(_SIMILARITY),
        )
        full = df.with_row_index("__position").join(helpers, on="__position", how="left").drop("__position")
        result = apply_rules(full, self.rules(input_key=input_key))
        helper_columns = [_KEPT, _CLUSTER, _SIMILARITY]
        return OpResult(
            kept=result.kept.drop(helper_columns), rejected=result.rejected.drop(helper_columns), scores=result.scores
        )

    def _cluster_labels(self, vectors: np.ndarray) -> np.ndarray:
        count = min(self.clusters or max(1, round(len(vectors) ** 0.5)), len(vectors))
        if count <= 1:
            return np.zeros(len(vectors), np.int64)
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=count, random_state=self.seed, n_init=1).fit_predict(vectors.astype(np.float64))


def _groups(vectors: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """For rows in id order: the index of the row kept for each (its own for a kept row), the cosine with it and
    the group's number (groups numbered in the order of their kept rows)."""
    kept = np.arange(len(vectors))
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        similarity = vectors[members] @ vectors[members].T
        left, right = np.nonzero(np.triu(similarity >= threshold, 1))
        parent = np.arange(len(members))
        for a, b in zip(left.tolist(), right.tolist(), strict=True):  # union-find, smallest index wins
            root_a, root_b = _root(parent, a), _root(parent, b)
            parent[max(root_a, root_b)] = min(root_a, root_b)
        kept[members] = members[[_root(parent, i) for i in range(len(members))]]
    in_group = np.bincount(kept, minlength=len(kept))[kept] > 1
    cosine = np.einsum("ij,ij->i", vectors, vectors[kept]).astype(np.float64) if len(vectors) else np.empty(0)
    return kept, cosine, np.searchsorted(np.unique(kept[in_group]), kept)


def _root(parent: np.ndarray, item: int) -> int:
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = parent[item]
    return item
