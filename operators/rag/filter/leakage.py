from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.rag.answers import contains, normalize
from operators.registry import register


def _longest_shared_run(question: str | None, context: str | None) -> int:
    """Length in words of the longest word sequence the question copies from the context."""
    q, c = normalize(question or "").split(), normalize(context or "").split()
    if not q or not c:
        return 0
    previous, best = [0] * (len(c) + 1), 0
    for word in q:
        current = [0] * (len(c) + 1)
        for j, other in enumerate(c, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


@register("leakage")
class LeakageFilter(Filter):
    """Reject questions that give their answer away or copy their context.

    Rules: ``answer_in_question`` (the normalised answer occurs in the question) and ``question_copies_context``
    (the question copies more than ``max_copied_words`` consecutive words of its context, so a lexical search
    finds the passage and the answer beside it without any reasoning).
    """

    row_local = True
    max_copied_words: int = Field(12, ge=1, description="Longest run of context words a question may copy")

    def rules(
        self, *, question_key: Read = "question", answer_key: Read = "answer", context_key: Read = "context"
    ) -> dict[str, Rule]:
        leaked = pl.struct(question_key, answer_key).map_elements(
            lambda r: float(contains(r[question_key], r[answer_key])), return_dtype=pl.Float64
        )
        copied = pl.struct(question_key, context_key).map_elements(
            lambda r: _longest_shared_run(r[question_key], r[context_key]), return_dtype=pl.Int64
        )
        return {
            "answer_in_question": Rule(score=leaked.alias("answer_in_question"), keep=leaked == 0),
            "question_copies_context": Rule(score=copied.alias("copied_words"), keep=copied <= self.max_copied_words),
        }
