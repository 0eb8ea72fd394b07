from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register

LEAK_PATTERN = (
    r"(?i)\\boxed\s*\{|\\fbox\s*\{|\bfinal\s+answer\b|\bthe\s+answer\s+is\b|(?:^|\n)\s*\**\s*(?:answer|solution)\s*\**\s*:"
    r"|####"
)
"""Marks of an answer written into the question: a box, "the answer is", an "Answer:" or "Solution:" line, GSM8K's
``####``."""

_JOINING_WORDS = "and|or|the|of|to|a|an|is|are|with|by|for|if|then|that|equals|plus|minus|times|than|from|as|be|in|at"
DANGLING_END = rf"(?i)(?:[=+\-*/^_,(\[{{:]|\\[a-z]*|\.\.\.|\u2026|\b(?:{_JOINING_WORDS}))\s*$"
"""A question that ends in an operator, an open bracket, a LaTeX command, an ellipsis or a joining word was cut off."""


def _count(column: pl.Expr, pattern: str) -> pl.Expr:
    return column.str.count_matches(pattern)


@register("math_question_check")
class MathQuestionCheckFilter(Filter):
    """Cheap checks of a math question before anything is solved: present, no answer leaked into it, not truncated.

    Rejections, in order: ``math_question_missing`` (null, or fewer than ``min_chars`` characters or no letter or
    digit), ``math_question_answer_leaked`` (a ``\\boxed{}``, "the answer is", "final answer", an "Answer:" or
    "Solution:" line, or ``####``), ``math_question_truncated`` (unbalanced ``{}``/``()``/``[]``, an odd number of
    unescaped ``$``, or an ending in an operator, an open bracket, a LaTeX command, an ellipsis or a joining word
    such as "and"/"the"). All rules are polars expressions, one pass over the column. The score of the truncation
    rule is the brace imbalance (0 when balanced).
    """

    key_docs = {"input_question_key": "the question (problem statement) checked"}
    references = (
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: question filtering before solving)",
    )

    min_chars: int = Field(10, ge=1, description="Shortest question kept, in characters (after stripping)")

    def rules(self, *, input_question_key: Read = "question") -> dict[str, Rule]:
        question = pl.col(input_question_key).str.strip_chars()
        length = question.str.len_chars().fill_null(0).alias("question_chars")
        present = (length >= self.min_chars) & question.str.contains(r"[\p{L}\p{N}]").fill_null(False)
        leaked = question.str.contains(LEAK_PATTERN)
        unescaped = question.str.replace_all(r"\\[{}$()\[\]]", "")
        imbalance = (
            (_count(unescaped, r"\{") - _count(unescaped, r"\}")).abs()
            + (_count(unescaped, r"\(") - _count(unescaped, r"\)")).abs()
            + (_count(unescaped, r"\[") - _count(unescaped, r"\]")).abs()
        )
        odd_dollars = _count(unescaped, r"\$") % 2 == 1
        truncated = (imbalance > 0) | odd_dollars | question.str.strip_chars_end("$ ").str.contains(DANGLING_END)
        return {
            "math_question_missing": Rule(score=length, keep=present),
            "math_question_answer_leaked": Rule(score=leaked.cast(pl.Float64).alias("question_leak"), keep=~leaked),
            "math_question_truncated": Rule(score=imbalance.alias("question_bracket_imbalance"), keep=~truncated),
        }
