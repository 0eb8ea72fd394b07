from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.math.answer import boxed_answers, extract_answer
from operators.registry import register


@register("math_answer_format")
class MathAnswerFormatFilter(Filter):
    """Keep solutions that state a final answer (optionally: in ``\\boxed{}``).

    A solution is rejected as ``math_answer_missing`` when no final answer can be extracted from it (see
    ``math_answer_extract``), and, with ``require_boxed``, as ``math_answer_not_boxed`` when the answer is not in a
    ``\\boxed{}`` (or ``\\fbox{}``) with balanced braces. DataFlow's ``ReasoningAnswerFormatterFilter`` has its check
    commented out and keeps every row; this one rejects, with the reason.
    """

    key_docs = {"input_key": "a solution whose final answer must be stated"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: answer format filter)",)
    requires = ("math_verify", "sympy")
    extra = "math"

    require_boxed: bool = Field(False, description="Also require the final answer inside \\boxed{}")

    def rules(self, *, input_key: Read = "solution") -> dict[str, Rule]:
        present = pl.col(input_key).map_elements(
            lambda text: extract_answer(text) is not None, return_dtype=pl.Boolean, skip_nulls=True
        )
        rules = {"math_answer_missing": Rule(score=present.cast(pl.Float64).alias("math_answer_present"), keep=present)}
        if self.require_boxed:
            boxed = pl.col(input_key).map_elements(
                lambda text: bool(boxed_answers(text)), return_dtype=pl.Boolean, skip_nulls=True
            )
            rules["math_answer_not_boxed"] = Rule(score=boxed.cast(pl.Float64).alias("math_answer_boxed"), keep=boxed)
        return rules
