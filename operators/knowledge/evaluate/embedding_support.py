from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl

from operators.base import Evaluator, OpResult, Read, Write
from operators.embedder.protocol import Embedder
from operators.knowledge.chunking import sentences
from operators.registry import register


@register("embedding_support")
class EmbeddingSupportEvaluator(Evaluator):
    """Score how well the context supports a QA pair: best cosine of question + answer to a context sentence.

    The embedder embeds the question and answer together and every sentence of the context (-1 to 1).

    A sentence, not the whole context, so that a pair about one fact of a long chunk is not diluted by the rest.
    Paraphrase-tolerant where ``lexical_support`` is not; one embedding call per step for all texts.
    """

    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    key_method: ClassVar[str] = "score"
    key_docs = {"output_key": "best cosine similarity of question + answer to a context sentence"}

    def score(
        self,
        df: pl.DataFrame,
        embedder: Embedder,
        *,
        question_key: Read = "question",
        answer_key: Read = "answer",
        context_key: Read = "context",
        output_key: Write = "support_embedding",
    ) -> pl.DataFrame:
        claims = [f"{q} {a}" for q, a in zip(df[question_key], df[answer_key], strict=True)]
        contexts = [c or "" for c in df[context_key]]
        pieces = [[c[s:e] for s, e in sentences(c)] or [c] for c in contexts]
        vectors = embedder.embed(claims + [p for group in pieces for p in group]) if claims else np.zeros((0, 1))
        claim_vectors, offset, scores = vectors[: len(claims)], len(claims), []
        for claim, group in zip(claim_vectors, pieces, strict=True):
            scores.append(float(np.max(vectors[offset : offset + len(group)] @ claim)))
            offset += len(group)
        return df.with_columns(pl.Series(output_key, scores, dtype=pl.Float64))

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: str) -> OpResult:
        return OpResult(kept=self.score(frames[0], embedder, **self.bind_keys(keys)))
