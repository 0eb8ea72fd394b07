from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import Evaluator, OpResult, Read, Write
from operators.embedder.protocol import Embedder
from operators.registry import register
from operators.text.embeddings import embed_texts

_WORD = r"\w+"


@register("embedding_bertscore")
class EmbeddingBertScoreEvaluator(Evaluator):
    """Score each text against its reference by greedy matching of word embeddings: BERTScore's precision,
    recall and F1, computed with the ``embedder`` engine.

    Zhang et al. (2020) match every token of the candidate to its most similar token of the reference (and
    back) by cosine similarity of *contextual* token embeddings from a BERT layer: precision is the mean best match
    of the candidate's tokens, recall that of the reference's, F1 their harmonic mean. The embedder engine gives
    one vector per text, not per token in context, so here each distinct lower-cased word (``\\w+``) is embedded
    on its own and the same greedy matching is done on those vectors. Differences: a word has one vector whatever
    its context (bank of a river, bank account), so the score rewards shared and related vocabulary rather than
    meaning in context; there is no idf weighting and no baseline rescaling, so values sit high (around 0.5 for
    unrelated English with all-MiniLM-L6-v2, 1.0 for identical texts) and compare only under one embedder. With
    ``granularity='sentence'`` the units are sentences instead of words (closer to meaning, coarser). A row without
    text or reference, or without a word, gets null.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    key_method: ClassVar[str] = "scored_keys"
    references: ClassVar[tuple[str, ...]] = (
        "Zhang, Kishore, Wu, Weinberger & Artzi, BERTScore: Evaluating Text Generation with BERT, ICLR 2020",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "precision_key": "mean best cosine of the text's units against the reference's",
        "recall_key": "mean best cosine of the reference's units against the text's",
        "f1_key": "harmonic mean of precision and recall",
    }

    granularity: str = Field("word", pattern="^(word|sentence)$", description="Units matched: word or sentence")

    def scored_keys(
        self,
        *,
        input_key: Read = "text",
        reference_key: Read = "reference",
        precision_key: Write = "bertscore_precision",
        recall_key: Write = "bertscore_recall",
        f1_key: Write = "bertscore_f1",
    ) -> None:
        """The key bindings (the work needs the engine, so it is done in :meth:`run`)."""

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: Any) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        pattern = (
            _WORD if self.granularity == "word" else r"[^.!?\x{3002}\x{FF01}\x{FF1F}\n]+[.!?\x{3002}\x{FF01}\x{FF1F}]*"
        )
        units = [
            df[bound[key]].str.to_lowercase().str.extract_all(pattern).list.eval(pl.element().str.strip_chars())
            for key in ("input_key", "reference_key")
        ]
        units = [column.list.filter(pl.element() != "") for column in units]
        vocabulary = pl.concat([column.explode() for column in units]).drop_nulls().unique().to_list()
        vectors = embed_texts(embedder, vocabulary)
        index = {unit: i for i, unit in enumerate(vocabulary)}
        scores = [
            _match(vectors, [index[u] for u in mine], [index[u] for u in theirs]) if mine and theirs else (None,) * 3
            for mine, theirs in zip(units[0].to_list(), units[1].to_list(), strict=True)
        ]
        columns = zip(*scores, strict=True) if scores else ([], [], [])
        return OpResult(
            kept=df.with_columns(
                pl.Series(bound[key], values, dtype=pl.Float64)
                for key, values in zip(("precision_key", "recall_key", "f1_key"), columns, strict=True)
            )
        )


def _match(vectors: np.ndarray, mine: list[int], theirs: list[int]) -> tuple[float, float, float]:
    similarity = vectors[mine] @ vectors[theirs].T
    precision, recall = float(similarity.max(axis=1).mean()), float(similarity.max(axis=0).mean())
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
