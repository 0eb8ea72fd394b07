from __future__ import annotations

from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import Evaluator, Read, Write
from operators.registry import register
from operators.text.evaluate._references import pairs


@register("bleu_score")
class BleuScoreEvaluator(Evaluator):
    """Score each text against its reference(s) with sentence-level BLEU and chrF (sacrebleu), 0-100.

    The reference column holds one reference (a string) or several (a list of strings). BLEU is sacrebleu's
    ``sentence_bleu`` (4-gram, brevity penalty, ``tokenize`` as given: ``13a`` is WMT's default, ``zh`` for
    Chinese, ``intl`` for Unicode punctuation) with exponential smoothing, since a single sentence often has no
    matching 4-gram; chrF is ``sentence_chrf`` (character 6-grams, beta 2, Popović 2015). Sentence BLEU is noisy:
    for a system-level figure use ``corpus_bleu``, which pools the n-gram counts of all rows. DataFlow's
    ``BleuSampleEvaluator`` carries its own copy of the BLEU code; sacrebleu is the reference implementation (Post
    2018) and its signature is reproducible. A row without text or reference gets null.
    """

    requires: ClassVar[tuple[str, ...]] = ("sacrebleu",)
    extra: ClassVar[str | None] = "text"
    references: ClassVar[tuple[str, ...]] = (
        "Papineni et al., BLEU: a method for automatic evaluation of machine translation, ACL 2002",
        "Popović, chrF: character n-gram F-score for automatic MT evaluation, WMT 2015",
        "Post, A Call for Clarity in Reporting BLEU Scores, WMT 2018 (sacrebleu)",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "bleu_key": "sentence BLEU against the reference(s), 0-100",
        "chrf_key": "sentence chrF against the reference(s), 0-100",
    }

    tokenize: Literal["13a", "intl", "zh", "ja-mecab", "ko-mecab", "char", "none"] = Field(
        "13a", description="sacrebleu tokenizer for BLEU (13a: WMT default; zh: Chinese; intl: Unicode)"
    )

    def expressions(
        self,
        *,
        input_key: Read = "text",
        reference_key: Read = "reference",
        bleu_key: Write = "bleu",
        chrf_key: Write = "chrf",
    ) -> dict[str, pl.Expr]:
        both = pl.struct(pl.col(input_key).alias("h"), pl.col(reference_key).alias("r"))
        return {
            bleu_key: both.map_batches(lambda s: self._scores(s, "bleu"), return_dtype=pl.Float64),
            chrf_key: both.map_batches(lambda s: self._scores(s, "chrf"), return_dtype=pl.Float64),
        }

    def _scores(self, rows: pl.Series, metric: str) -> pl.Series:
        from sacrebleu.metrics import BLEU, CHRF

        scorer = BLEU(tokenize=self.tokenize, effective_order=True) if metric == "bleu" else CHRF()
        fields = rows.struct.unnest()
        scored = [None if p is None else scorer.sentence_score(*p).score for p in pairs(fields["h"], fields["r"])]
        return pl.Series(scored, dtype=pl.Float64)
