from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.rag.answers import contains, normalize
from operators.registry import register

_GUESSABLE = ["yes", "no", "true", "false"]


@register("difficulty")
class DifficultyFilter(Filter):
    """Reject tasks that are too easy to guess or too loose to verify.

    Rules: ``answer_guessable`` (yes/no/true/false: a coin flip scores half), ``answer_too_long`` (more than
    ``max_answer_words`` words: not checkable by exact match or F1), ``question_too_short`` (fewer than
    ``min_question_words`` words: underspecified) and ``answer_not_in_context`` (the answer is not found in the
    source passage, so the task cannot be verified from its document).
    """

    max_answer_words: int = Field(8, ge=1, description="Most words in an answer")
    min_question_words: int = Field(5, ge=1, description="Fewest words in a question")

    def rules(
        self, *, question_key: Read = "question", answer_key: Read = "answer", context_key: Read = "context"
    ) -> dict[str, Rule]:
        answer = pl.col(answer_key).map_elements(normalize, return_dtype=pl.String)
        answer_words = pl.col(answer_key).str.split(" ").list.len()
        question_words = pl.col(question_key).str.split(" ").list.len()
        grounded = pl.struct(answer_key, context_key).map_elements(
            lambda r: float(contains(r[context_key], r[answer_key])), return_dtype=pl.Float64
        )
        return {
            "answer_guessable": Rule(
                score=answer.is_in(_GUESSABLE).cast(pl.Float64).alias("guessable"), keep=~answer.is_in(_GUESSABLE)
            ),
            "answer_too_long": Rule(
                score=answer_words.alias("answer_words"), keep=answer_words <= self.max_answer_words
            ),
            "question_too_short": Rule(
                score=question_words.alias("question_words"), keep=question_words >= self.min_question_words
            ),
            "answer_not_in_context": Rule(score=grounded.alias("answer_in_context"), keep=grounded == 1),
        }
