from __future__ import annotations

import polars as pl

from operators.base import Read, Refiner, Write
from operators.math.answer import extract_answer, normalize_answer
from operators.registry import register


@register("math_answer_extract")
class MathAnswerExtractRefiner(Refiner):
    """Write the final answer of each solution, as extracted and in its normalized form (null where none is found).

    Extraction takes the last ``\\boxed{}``/``\\fbox{}`` (nested braces balanced), else the last "Final Answer: ...",
    "The answer is ...", "Answer: ..." or GSM8K's ``#### ...``, else a short bare answer, else the last math span or
    number. Normalization removes delimiters, ``\\left``/``\\right``, units, currency, degrees and thousands
    separators and writes ``\\dfrac``/``\\tfrac`` as ``\\frac``, scientific notation as a plain decimal and a
    repeating decimal as its fraction; it never changes the value. Pure Python, no sympy.
    """

    key_docs = {
        "input_key": "a solution or a bare answer",
        "output_answer_key": "the final answer as written in the solution",
        "output_normalized_key": "the final answer normalized (what the checks compare)",
    }
    references = (
        "Hendrycks et al. 2021, MATH, arXiv:2103.03874 (\\boxed answers)",
        "Lewkowycz et al. 2022, Minerva, arXiv:2206.14858 ('Final Answer: The final answer is ...')",
        "Cobbe et al. 2021, GSM8K, arXiv:2110.14168 ('#### answer')",
    )
    requires = ("math_verify", "sympy")
    extra = "math"

    def expressions(
        self,
        *,
        input_key: Read = "solution",
        output_answer_key: Write = "final_answer",
        output_normalized_key: Write = "final_answer_normalized",
    ) -> dict[str, pl.Expr]:
        extracted = pl.col(input_key).map_elements(extract_answer, return_dtype=pl.String, skip_nulls=True)
        return {
            output_answer_key: extracted,
            output_normalized_key: extracted.map_elements(normalize_answer, return_dtype=pl.String, skip_nulls=True),
        }
