from __future__ import annotations

import threading
from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import Evaluator, Read, Write
from operators.registry import register

_BOXED = r"\\boxed\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}"
"""``\\boxed{...}`` with up to two levels of nested braces inside (``\\boxed{\\frac{1}{2}}``)."""


@register("answer_match")
class AnswerMatchEvaluator(Evaluator):
    """Score whether a model's answer matches the reference answer: 1.0 or 0.0 per row, for benchmark evaluation.

    The final answer is taken from the prediction: the content of its last ``\\boxed{...}`` if it has one, else its
    last non-empty line. ``method``: ``exact`` compares after normalizing (lower case, whitespace collapsed,
    surrounding punctuation and ``$`` stripped); ``choice`` compares the option letter (A-J) of both; ``math``
    compares mathematically with math-verify (LaTeX and plain expressions, ``1/2`` = ``0.5`` = ``\\frac{1}{2}``,
    sets and intervals; Hugging Face's verifier for reasoning benchmarks), or as ``exact`` does (word answers).
    Semantic matching by an LLM judge is ``prompted_evaluator`` with ``templates.ANSWER_EQUIVALENCE``. A row
    without prediction or reference gets null. ``bench_accuracy`` turns the column into the dataset's accuracy.
    DataFlow's ``BenchDatasetEvaluator`` compares with math-verify or an LLM the same way but only writes a
    per-dataset JSON file.
    """

    references: ClassVar[tuple[str, ...]] = ("Hugging Face math-verify (github.com/huggingface/Math-Verify)",)
    key_docs: ClassVar[dict[str, str]] = {
        "output_key": "1.0 when the final answer matches the reference, 0.0 when not, null when either is missing",
        "answer_key": "the final answer read from the prediction (last \\boxed{} or last line)",
    }

    method: Literal["exact", "choice", "math"] = Field("exact", description="How answers are compared")

    def expressions(
        self,
        *,
        input_key: Read = "prediction",
        gold_key: Read = "gold",
        output_key: Write = "match",
        answer_key: Write = "final_answer",
    ) -> dict[str, pl.Expr]:
        prediction, gold = pl.col(input_key), pl.col(gold_key).cast(pl.String)
        boxed = prediction.str.extract_all(_BOXED).list.last().str.extract(_BOXED, 1)
        last_line = prediction.str.strip_chars().str.split("\n").list.last().str.strip_chars()
        answer = pl.coalesce(boxed, last_line)
        normalize = _choice if self.method == "choice" else _normalized
        matched = (normalize(answer) == normalize(gold)).cast(pl.Float64)
        if self.method == "math":  # equal as text (a word answer), or equal as mathematics
            maths = pl.struct(answer.alias("a"), gold.alias("g"), prediction.alias("p"))
            matched = pl.max_horizontal(matched, maths.map_batches(_math_matches, return_dtype=pl.Float64))
        missing = prediction.is_null() | gold.is_null()
        return {output_key: pl.when(~missing).then(matched), answer_key: answer}


def _normalized(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars(" .,;:!?$`'\"\t\n")


def _choice(text: pl.Expr) -> pl.Expr:
    return text.str.extract(r"(?i)(?:^|[^A-Za-z])\(?([A-J])\)?(?:[^A-Za-z]|$)", 1).str.to_uppercase()


def _math_matches(rows: pl.Series) -> pl.Series:
    """math-verify on each (answer, gold); its time limits use SIGALRM, which only the main thread may set, so in
    another thread (a Dagster step in a thread pool) they are off."""
    from math_verify import parse, verify

    limit = 5 if threading.current_thread() is threading.main_thread() else None
    fields = rows.struct.unnest()
    scores = []
    for answer, gold, prediction in zip(fields["a"], fields["g"], fields["p"], strict=True):
        if answer is None or gold is None:
            scores.append(None)
            continue
        target = parse(prediction if "\\boxed" in prediction else answer, parsing_timeout=limit)
        scores.append(float(verify(parse(gold, parsing_timeout=limit), target, timeout_seconds=limit)))
    return pl.Series(scores, dtype=pl.Float64)
