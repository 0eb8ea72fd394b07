from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Evaluator, Read, Write
from operators.registry import register
from operators.text.evaluate._references import pairs


@register("rouge_score")
class RougeScoreEvaluator(Evaluator):
    """Score each text against its reference(s) with ROUGE-1, ROUGE-2 and ROUGE-L F-measures (Google's rouge-score).

    ROUGE-N is the F-measure of shared word n-grams, ROUGE-L that of the longest common subsequence (Lin 2004).
    Tokens are rouge-score's: lower-cased ASCII letters and digits (other scripts are dropped, so it suits
    English), with the Porter stemmer when ``stemmer`` is on (the setting of most summarization papers). With
    several references (a list column) each score is the best over them (``score_multi``). A row without text or
    reference gets null; a text of no tokens scores 0.
    """

    requires: ClassVar[tuple[str, ...]] = ("rouge_score",)
    extra: ClassVar[str | None] = "text"
    references: ClassVar[tuple[str, ...]] = (
        "Lin, ROUGE: A Package for Automatic Evaluation of Summaries, ACL Workshop 2004",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "rouge1_key": "ROUGE-1 F-measure against the reference(s), 0-1",
        "rouge2_key": "ROUGE-2 F-measure against the reference(s), 0-1",
        "rougel_key": "ROUGE-L (longest common subsequence) F-measure against the reference(s), 0-1",
    }

    stemmer: bool = Field(True, description="Stem words with the Porter stemmer before matching")

    def expressions(
        self,
        *,
        input_key: Read = "text",
        reference_key: Read = "reference",
        rouge1_key: Write = "rouge1",
        rouge2_key: Write = "rouge2",
        rougel_key: Write = "rougeL",
    ) -> dict[str, pl.Expr]:
        scores = pl.struct(pl.col(input_key).alias("h"), pl.col(reference_key).alias("r")).map_batches(
            self._scores, return_dtype=pl.Struct({"rouge1": pl.Float64, "rouge2": pl.Float64, "rougeL": pl.Float64})
        )
        return {
            rouge1_key: scores.struct.field("rouge1"),
            rouge2_key: scores.struct.field("rouge2"),
            rougel_key: scores.struct.field("rougeL"),
        }

    def _scores(self, rows: pl.Series) -> pl.Series:
        from rouge_score.rouge_scorer import RougeScorer

        scorer = RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=self.stemmer)
        fields = rows.struct.unnest()
        scored = []
        for pair in pairs(fields["h"], fields["r"]):
            found = None if pair is None else scorer.score_multi(pair[1], pair[0])
            scored.append(None if found is None else {name: score.fmeasure for name, score in found.items()})
        return pl.Series(scored, dtype=pl.Struct({"rouge1": pl.Float64, "rouge2": pl.Float64, "rougeL": pl.Float64}))
