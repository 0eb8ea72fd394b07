from __future__ import annotations

import polars as pl

from operators.base import Evaluator, Read, Write
from operators.rag.answers import normalize
from operators.registry import register

_STOP = frozenset(
    [
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "is",
        "was",
        "were",
        "are",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "as",
    ]
)


def _recall(answer: str | None, context: str | None) -> float | None:
    words = [w for w in normalize(answer or "").split() if w not in _STOP]
    if not words:
        return None
    found = set(normalize(context or "").split())
    return sum(w in found for w in words) / len(words)


@register("lexical_support")
class LexicalSupportEvaluator(Evaluator):
    """Score how much of an answer the context supports: the share of its content words found in the context.

    Words are SQuAD-normalised and stop words set aside; 0 to 1, null for an answer with no content word.

    Cheap and strict about names and numbers, blind to paraphrase; ``embedding_support`` is the opposite, and the
    ``support_judge`` filter decides with an LLM. An answer scoring low here usually came from the model's memory.
    """

    key_docs = {"output_key": "share of the answer's content words found in the context (0-1)"}

    def expressions(
        self, *, answer_key: Read = "answer", context_key: Read = "context", output_key: Write = "support_lexical"
    ) -> dict[str, pl.Expr]:
        pair = pl.struct(answer_key, context_key)
        return {
            output_key: pair.map_elements(lambda r: _recall(r[answer_key], r[context_key]), return_dtype=pl.Float64)
        }
