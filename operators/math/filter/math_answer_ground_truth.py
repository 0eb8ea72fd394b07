from __future__ import annotations

import polars as pl

from operators.base import Filter, Read, Rule
from operators.math.checking import CheckSettings, Reason, check_pairs
from operators.registry import register

_VERDICT = "__math_verdict"
_DETAIL = "__math_detail"
_CORRECT = "math_answer_correct"


@register("math_answer_ground_truth")
class MathAnswerGroundTruthFilter(Filter, CheckSettings):
    """Keep a solution when its final answer is mathematically equivalent to the reference answer.

    Both sides may be whole solutions or bare answers: the final answer is extracted from each (the last
    ``\\boxed{}``, "The answer is ...", "Final Answer: ...", else the last expression), normalized (units, percent,
    thousands separators, ``\\dfrac``, degrees, ``\\text{}``), then compared: identical forms, option letters and word
    answers directly, everything else by math-verify with sympy (numbers within ``float_rounding`` decimals, so
    ``0.5 = 1/2`` but ``0.33 != 1/3``; sets unordered; intervals with their open or closed ends; matrices; ``x = 3``
    against ``3``). Each sympy check runs in a worker process with a time limit; a check that exceeds it is rejected
    as ``math_check_timeout``, never accepted.

    Rejections: ``math_reference_missing``, ``math_reference_unparseable``, ``math_answer_missing`` (no final answer
    in the solution), ``math_answer_unparseable``, ``math_answer_mismatch``, ``math_check_timeout``,
    ``math_check_error``; the detail is JSON with both extracted answers and the normalized forms compared.

    DataFlow's ``ReasoningAnswerGroundTruthFilter`` compares with math-verify in the calling thread with no bound of
    its own; its ``ReasoningAnswerFormatterFilter`` keeps every row.
    """

    key_docs = {
        "input_answer_key": "a solution (or bare answer) whose final answer is checked",
        "input_reference_key": "the reference: a bare answer (number, LaTeX, set, interval, matrix) or a solution",
    }
    references = (
        "Kydlíček et al., Math-Verify (huggingface/Math-Verify), 2025",
        "Hendrycks et al. 2021, Measuring Mathematical Problem Solving With the MATH Dataset, arXiv:2103.03874",
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: answer ground-truth filter)",
    )
    example = "MathAnswerGroundTruthFilter(timeout_s=5)(df, input_answer_key='solution', input_reference_key='answer')"
    requires = ("math_verify", "sympy")
    extra = "math"

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        results = check_pairs(
            df[keys["input_reference_key"]].cast(pl.String).to_list(),
            df[keys["input_answer_key"]].cast(pl.String).to_list(),
            self.check_settings(),
        )
        return df.with_columns(
            pl.Series(_VERDICT, [r.reason.value if r.reason else None for r in results], dtype=pl.String),
            pl.Series(_DETAIL, [r.detail() for r in results], dtype=pl.String),
        )

    def rules(self, *, input_answer_key: Read = "answer", input_reference_key: Read = "reference") -> dict[str, Rule]:
        verdict = pl.col(_VERDICT)
        correct = verdict.is_null().cast(pl.Float64).alias(_CORRECT)
        return {
            reason.value: Rule(score=correct, keep=verdict.ne_missing(reason.value), detail=pl.col(_DETAIL))
            for reason in Reason
        }
