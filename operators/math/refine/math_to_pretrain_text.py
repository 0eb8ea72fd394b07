from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("math_to_pretrain_text")
class MathToPretrainTextRefiner(Refiner):
    """Write each (question, solution) pair as one pre-training document: "Problem: ...\\n\\nSolution: ...".

    The headings are parameters (``problem_heading``, ``solution_heading``; an empty heading leaves the part bare)
    and the parts are joined by a blank line, the layout of OpenWebMath-style math pages. A row with a null
    question or solution gets a null text (a later filter rejects it), never half a document. Vectorized.
    """

    key_docs = {
        "input_question_key": "the question",
        "input_answer_key": "the solution",
        "output_text_key": "the pre-training document",
    }
    references = ("Paster et al. 2023, OpenWebMath, arXiv:2310.06786 (math pre-training text)",)

    problem_heading: str = Field("Problem:", description="Text before the question ('' for none)")
    solution_heading: str = Field("Solution:", description="Text before the solution ('' for none)")

    def expressions(
        self,
        *,
        input_question_key: Read = "question",
        input_answer_key: Read = "solution",
        output_text_key: Write = "text",
    ) -> dict[str, pl.Expr]:
        def part(heading: str, column: str) -> pl.Expr:
            text = pl.col(column).str.strip_chars()
            return pl.concat_str(pl.lit(f"{heading} "), text) if heading else text

        text = pl.concat_str(
            part(self.problem_heading, input_question_key),
            part(self.solution_heading, input_answer_key),
            separator="\n\n",
        )
        return {output_text_key: text}
