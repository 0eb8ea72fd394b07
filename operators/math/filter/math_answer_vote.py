from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Read, Rule, Write
from operators.columns import PARENT_IDS
from operators.math.checking import VOTE_REASONS, CheckSettings, vote
from operators.math.filtering import _WritingFilter, group_labels, grouped
from operators.registry import register

_REASON = "__math_vote_reason"
_NOTE = "__math_vote_note"


@register("math_answer_vote")
class MathAnswerVoteFilter(_WritingFilter, CheckSettings):
    """Majority vote over the sampled solutions of each question: keep the samples whose final answer is the winner.

    For questions without a reference answer (self-consistency, Wang et al. 2023): the ``n`` solutions of one
    question (grouped by ``input_group_key``, by default the question row named in ``_parent_ids``) vote with their
    final answers, and equivalent answers vote together: ``1/2``, ``0.5`` and ``\\frac{1}{2}`` are one class,
    decided by the same bounded checks as ``math_answer_ground_truth``. The winner (``pseudo_answer``) and its vote
    share (majority samples over all samples, so samples without an answer count against it) are written on every
    row and kept as the score.

    Rejections, in order: ``math_answer_missing`` (the sample has no final answer), ``math_vote_tie`` (two classes
    equally large: no pseudo-answer), ``math_vote_minority`` (the sample's answer lost), ``math_vote_weak`` (the
    majority's share is below ``min_share``). DataFlow's ``ReasoningPseudoAnswerGenerator`` counts identical answer
    strings (and at temperature 0 its samples are identical); here the samples must differ (``n`` needs a
    temperature above 0) and the vote counts equivalent answers.
    """

    row_local: ClassVar[bool] = False
    key_docs = {
        "input_answer_key": "a sampled solution (or bare answer)",
        "input_group_key": "what the samples of one question share (by default the question row's id)",
        "output_answer_key": "the majority final answer of the row's group",
        "output_share_key": "share of the group's samples whose answer is the majority answer",
    }
    references = (
        "Wang et al. 2023, Self-Consistency Improves Chain of Thought Reasoning in Language Models, arXiv:2203.11171",
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: pseudo-answer generator)",
    )
    example = "MathAnswerVoteFilter(min_share=0.6)(samples, input_answer_key='solution')"

    min_share: float = Field(
        0.5, ge=0, le=1, description="Smallest vote share of the majority answer for its samples to be kept"
    )

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        groups = grouped(group_labels(df[keys["input_group_key"]]))
        answers = df[keys["input_answer_key"]].cast(pl.String).to_list()
        settings = self.check_settings()
        outcomes = vote([[answers[i] for i in rows] for rows in groups.values()], settings)
        winner, share, reason, note = [None] * df.height, [0.0] * df.height, [None] * df.height, [None] * df.height
        for rows, results in zip(groups.values(), outcomes, strict=True):
            for position, result in zip(rows, results, strict=True):
                winner[position], share[position], note[position] = result.winner, result.share, result.note
                reason[position] = result.reason(self.min_share)
        return df.with_columns(
            pl.Series(keys["output_answer_key"], winner, dtype=pl.String),
            pl.Series(keys["output_share_key"], share, dtype=pl.Float64),
            pl.Series(_REASON, reason, dtype=pl.String),
            pl.Series(_NOTE, note, dtype=pl.String),
        )

    def rules(
        self,
        *,
        input_answer_key: Read = "solution",
        input_group_key: Read = PARENT_IDS,
        output_answer_key: Write = "pseudo_answer",
        output_share_key: Write = "vote_share",
    ) -> dict[str, Rule]:
        reason = pl.col(_REASON)
        share = pl.col(output_share_key).alias("vote_share")
        detail = pl.concat_str(
            pl.lit("pseudo_answer="),
            pl.col(output_answer_key).fill_null("none"),
            pl.lit(f"; {output_share_key}="),
            share.round(3).cast(pl.String),
            pl.lit("; "),
            pl.col(_NOTE).fill_null(""),
        )
        return {name: Rule(score=share, keep=reason.ne_missing(name), detail=detail) for name in VOTE_REASONS}
