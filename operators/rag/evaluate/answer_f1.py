from __future__ import annotations

import polars as pl

from operators.base import Evaluator, Read, Write
from operators.rag.answers import exact_match, f1
from operators.registry import register


@register("answer_f1")
class AnswerF1Evaluator(Evaluator):
    """Score predicted answers against references: exact match and token F1 after SQuAD normalisation.

    The reference column may hold a string or a list of acceptable answers (the best match counts). A null
    prediction scores 0. This is the metric of SQuAD, HotpotQA and DataFlow's agentic RAG evaluation; unlike
    ``answer_match`` (one final answer matched exactly, by option letter or mathematically) it gives partial credit
    for token overlap, as short free-text answers need.
    """

    references = ("Rajpurkar et al. 2016, SQuAD, arXiv:1606.05250",)
    key_docs = {"em_key": "1.0 if the normalised prediction equals a reference, else 0.0", "f1_key": "token F1"}

    def expressions(
        self,
        *,
        prediction_key: Read = "prediction",
        reference_key: Read = "answer",
        em_key: Write = "answer_em",
        f1_key: Write = "answer_f1",
    ) -> dict[str, pl.Expr]:
        pair = pl.struct(prediction_key, reference_key)

        def score(metric):
            return pair.map_elements(lambda r: metric(r[prediction_key], r[reference_key]), return_dtype=pl.Float64)

        return {em_key: score(exact_match), f1_key: score(f1)}
