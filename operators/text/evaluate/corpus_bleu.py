from __future__ import annotations

from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import DatasetEvaluator, Metrics, Read
from operators.registry import register
from operators.text.evaluate._references import pairs


@register("corpus_bleu")
class CorpusBleuEvaluator(DatasetEvaluator):
    """Score a whole dataset of outputs against references with corpus BLEU, chrF and TER (sacrebleu).

    Corpus BLEU pools the n-gram matches and lengths of every row before taking the geometric mean (Papineni et
    al. 2002), which is what "the BLEU of a system" means; the mean of sentence BLEUs (``bleu_score``) is not.
    Rows may have several references (a list column) and different numbers of them. Metrics: ``bleu``,
    ``chrf`` and ``ter`` (0-100, sacrebleu's defaults apart from BLEU's ``tokenize``), ``scored_rows`` and
    ``skipped_rows`` (rows without text or reference, left out).
    """

    requires: ClassVar[tuple[str, ...]] = ("sacrebleu",)
    extra: ClassVar[str | None] = "text"
    references: ClassVar[tuple[str, ...]] = (
        "Papineni et al., BLEU, ACL 2002; Snover et al., A Study of Translation Edit Rate, AMTA 2006",
        "Post, A Call for Clarity in Reporting BLEU Scores, WMT 2018 (sacrebleu)",
    )

    tokenize: Literal["13a", "intl", "zh", "ja-mecab", "ko-mecab", "char", "none"] = Field(
        "13a", description="sacrebleu tokenizer for BLEU (13a: WMT default; zh: Chinese; intl: Unicode)"
    )

    def evaluate(self, df: pl.DataFrame, *, input_key: Read = "text", reference_key: Read = "reference") -> Metrics:
        from sacrebleu.metrics import BLEU, CHRF, TER

        scored = [pair for pair in pairs(df[input_key], df[reference_key]) if pair is not None]
        values = {"scored_rows": float(len(scored)), "skipped_rows": float(df.height - len(scored))}
        if not scored:
            return Metrics(values)
        hypotheses = [hypothesis for hypothesis, _ in scored]
        streams = max(len(refs) for _, refs in scored)
        references = [[refs[i] if i < len(refs) else None for _, refs in scored] for i in range(streams)]
        for name, metric in (("bleu", BLEU(tokenize=self.tokenize)), ("chrf", CHRF()), ("ter", TER())):
            values[name] = metric.corpus_score(hypotheses, references).score
        return Metrics(values)
