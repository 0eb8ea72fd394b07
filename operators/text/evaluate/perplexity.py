from __future__ import annotations

from typing import Any, ClassVar

import polars as pl

from operators.base import Evaluator, OpResult, Read, Write
from operators.llm.protocol import LLM
from operators.registry import register
from operators.text.evaluate.token_scores import failure, perplexity, set_aside, token_scorer


@register("perplexity")
class PerplexityEvaluator(Evaluator):
    """Score each text's perplexity under the LLM engine's model: exp of the mean negative log-probability of its
    tokens (lower is more fluent, more typical of the model's training data).

    CCNet and many pre-training pipelines keep the documents a small language model finds plausible (Wenzek et
    al. 2020 rank by a KenLM model's perplexity); DataFlow's PerplexitySampleEvaluator does it with a KenLM or
    Hugging Face model. Here the model is the LLM engine's, through ``LLM.score_tokens``: one forward pass per
    text read as the start of a document (its first token is scored only where the tokenizer puts a BOS before
    it), cached like any LLM answer (the embedded SmolLM2, a vLLM engine, or an OpenAI-compatible server that
    echoes log-probabilities; see docs/llm.md). Keep a band with ``row_filter`` (e.g. ``perplexity < 1000``);
    values compare only under one model and tokenizer (SmolLM2-135M: 45-285 for plain English sentences, 3,900
    to 25,000 for the same words shuffled). A null or empty text gets null; a row whose scoring failed is
    rejected as ``llm_<error kind>``, as in every LLM step.
    """

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    key_method: ClassVar[str] = "scored_keys"
    references: ClassVar[tuple[str, ...]] = (
        "Wenzek et al., CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data, LREC 2020",
    )
    key_docs: ClassVar[dict[str, str]] = {"output_key": "perplexity of the text under the engine's model"}

    def scored_keys(self, *, input_key: Read = "text", output_key: Write = "perplexity") -> None:
        """The key bindings (the work needs the engine, so it is done in :meth:`run`)."""

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: Any) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        texts = df[bound["input_key"]].to_list()
        rows = [i for i, text in enumerate(texts) if text]
        scored = dict(zip(rows, token_scorer(llm).score_tokens([texts[i] for i in rows]) if rows else [], strict=True))
        values = [perplexity(scored[i]) if i in scored else None for i in range(df.height)]
        scored_df = df.with_columns(pl.Series(bound["output_key"], values, dtype=pl.Float64))
        return set_aside(scored_df, [failure(scored.get(i)) for i in range(df.height)])
