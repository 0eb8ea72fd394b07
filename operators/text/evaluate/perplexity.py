from __future__ import annotations

import math
from typing import Any, ClassVar

import polars as pl

from operators.base import Evaluator, OpResult, Read, Write
from operators.registry import register
from operators.text.evaluate.token_scores import TokenScores, token_scorer


@register("perplexity")
class PerplexityEvaluator(Evaluator):
    """Score each text's perplexity under the LLM engine's model: exp of the mean negative log-probability of its
    tokens (lower is more fluent, more typical of the model's training data).

    CCNet and many pre-training pipelines keep the documents a small language model finds plausible (Wenzek et
    al. 2020 rank by a KenLM model's perplexity); DataFlow's PerplexitySampleEvaluator does it with a KenLM or
    Hugging Face model. Here the model is the LLM engine's, through ``score_tokens`` (see ``token_scores``; an
    engine without it is refused with a hint). Keep a band with ``row_filter`` (e.g. ``perplexity < 200``); values
    compare only under one model and tokenizer. A null or empty text, or a failed scoring, gets null.
    """

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    key_method: ClassVar[str] = "scored_keys"
    references: ClassVar[tuple[str, ...]] = (
        "Wenzek et al., CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data, LREC 2020",
    )
    key_docs: ClassVar[dict[str, str]] = {"output_key": "perplexity of the text under the engine's model"}

    def scored_keys(self, *, input_key: Read = "text", output_key: Write = "perplexity") -> None:
        """The key bindings (the work needs the engine, so it is done in :meth:`run`)."""

    def run(self, *frames: pl.DataFrame, llm: Any, **keys: Any) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        texts = df[bound["input_key"]].to_list()
        rows = [i for i, text in enumerate(texts) if text]
        scored = token_scorer(llm).score_tokens([texts[i] for i in rows]) if rows else []
        values: list[float | None] = [None] * len(texts)
        for i, scores in zip(rows, scored, strict=True):
            values[i] = perplexity(scores)
        return OpResult(kept=df.with_columns(pl.Series(bound["output_key"], values, dtype=pl.Float64)))


def perplexity(scores: TokenScores) -> float | None:
    """exp(-mean log p) of the tokens; None for a failure or no tokens."""
    if scores.error or not scores.logprobs:
        return None
    return math.exp(-sum(scores.logprobs) / len(scores.logprobs))
