"""What the perplexity and IFD scores need from the LLM engine: the log-probability of every token of a text,
optionally after a context. Not yet part of ``operators.llm.protocol`` (its owner is changing the LLM client);
the operators check for it at run time and say what is missing. The proposed addition, for the engine:

``LLM.score_tokens(texts, *, contexts=None) -> list[TokenScores]``: for each text, the natural-log probability of
each of its tokens given the context (``contexts[i]``, may be None) and the text's earlier tokens, scored by one
forward pass without sampling (llama.cpp: ``logits_all=True`` and a log-softmax over the evaluated tokens, or
``create_completion(echo=True, logprobs=0, max_tokens=1)``; vLLM: ``SamplingParams(prompt_logprobs=0)``;
OpenAI-compatible servers: ``/v1/completions`` with ``echo=true, logprobs=0, max_tokens=0``); cached like
``generate``, a failure a ``TokenScores`` with ``error`` set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from operators.errors import DataflowError


@dataclass(frozen=True)
class TokenScores:
    logprobs: list[float] = field(default_factory=list)
    """Natural-log probability of each token of the text, in order (the context's tokens are not included)."""
    error: str | None = None


@runtime_checkable
class TokenScorer(Protocol):
    def score_tokens(
        self, texts: Sequence[str], *, contexts: Sequence[str | None] | None = None
    ) -> list[TokenScores]: ...


def token_scorer(llm: Any) -> TokenScorer:
    """The engine as a token scorer, or a clear refusal."""
    if isinstance(llm, TokenScorer):
        return llm
    raise DataflowError(
        f"the LLM engine {getattr(llm, 'identity', type(llm).__name__)} cannot return token log-probabilities",
        hint="perplexity and IFD need LLM.score_tokens (see operators/text/evaluate/token_scores.py); until the "
        "engine has it, judge quality with prompted_evaluator and the templates of operators/text/templates.py",
    )
