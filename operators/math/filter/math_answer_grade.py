from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Read, Rule, Write
from operators.columns import PARENT_IDS
from operators.math.checking import VOTE_REASONS, CheckSettings, Reason, check_pairs, vote
from operators.math.filtering import _WritingFilter, group_labels, grouped
from operators.registry import register

_REASON = "__math_grade_reason"
_DETAIL = "__math_grade_detail"
REASONS = tuple(dict.fromkeys([*(reason.value for reason in Reason), *VOTE_REASONS]))


@register("math_answer_grade")
class MathAnswerGradeFilter(_WritingFilter, CheckSettings):
    """Grade each solution against its reference answer where there is one, else by a vote of its question's samples.

    The DataFlow reasoning recipe's grading step in one operator: a row with a reference (``input_reference_key``
    not null or blank) is judged exactly as ``math_answer_ground_truth`` judges it; the rows without one are grouped
    by question (``input_group_key``) and judged as ``math_answer_vote`` judges them. Every row records how it was
    graded (``graded_by``: ``reference`` or ``vote``), the answer it was compared with (``target_answer``) and, for
    voted rows, the vote share (the score). Rejections are those of the two operators.
    """

    row_local: ClassVar[bool] = False
    key_docs = {
        "input_answer_key": "a solution (or bare answer)",
        "input_reference_key": "the reference answer or solution; null or blank where there is none",
        "input_group_key": "what the samples of one question share (by default the question row's id)",
        "output_method_key": "'reference' or 'vote': how the row was graded",
        "output_target_key": "the final answer the row's answer was compared with",
        "output_share_key": "for voted rows, the majority answer's share of the samples",
    }
    references = (
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: ground truth when present, else vote)",
        "Wang et al. 2023, Self-Consistency Improves Chain of Thought Reasoning in Language Models, arXiv:2203.11171",
    )

    min_share: float = Field(
        0.5, ge=0, le=1, description="For voted rows: smallest vote share of the majority answer to keep its samples"
    )

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        settings = self.check_settings()
        references = df[keys["input_reference_key"]].cast(pl.String).to_list()
        answers = df[keys["input_answer_key"]].cast(pl.String).to_list()
        with_reference = [i for i, text in enumerate(references) if text is not None and text.strip()]
        method, target, share = [None] * df.height, [None] * df.height, [None] * df.height
        reason, detail = [None] * df.height, [None] * df.height
        checked = check_pairs([references[i] for i in with_reference], [answers[i] for i in with_reference], settings)
        for position, result in zip(with_reference, checked, strict=True):
            method[position], target[position] = "reference", result.reference
            reason[position] = result.reason.value if result.reason else None
            detail[position] = result.detail()
        voted = set(range(df.height)) - set(with_reference)
        labels = group_labels(df[keys["input_group_key"]])
        groups = grouped([label if i in voted else None for i, label in enumerate(labels)])
        groups = {label: rows for label, rows in groups.items() if rows[0] in voted}
        outcomes = vote([[answers[i] for i in rows] for rows in groups.values()], settings)
        for rows, results in zip(groups.values(), outcomes, strict=True):
            for position, result in zip(rows, results, strict=True):
                method[position], target[position], share[position] = "vote", result.winner, result.share
                reason[position] = result.reason(self.min_share)
                detail[position] = (
                    f"answer={result.answer!r}; pseudo_answer={result.winner!r}; share={result.share:.3f}"
                )
        return df.with_columns(
            pl.Series(keys["output_method_key"], method, dtype=pl.String),
            pl.Series(keys["output_target_key"], target, dtype=pl.String),
            pl.Series(keys["output_share_key"], share, dtype=pl.Float64),
            pl.Series(_REASON, reason, dtype=pl.String),
            pl.Series(_DETAIL, detail, dtype=pl.String),
        )

    def rules(
        self,
        *,
        input_answer_key: Read = "solution",
        input_reference_key: Read = "reference",
        input_group_key: Read = PARENT_IDS,
        output_method_key: Write = "graded_by",
        output_target_key: Write = "target_answer",
        output_share_key: Write = "vote_share",
    ) -> dict[str, Rule]:
        reason = pl.col(_REASON)
        correct = reason.is_null().cast(pl.Float64).alias("math_answer_correct")
        return {name: Rule(score=correct, keep=reason.ne_missing(name), detail=pl.col(_DETAIL)) for name in REASONS}
