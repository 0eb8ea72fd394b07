from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.code.base import CodeColumns
from operators.registry import register


@register("code_repetition")
class CodeRepetitionFilter(CodeColumns, Filter):
    """Reject files made of the same lines over and over: copy-pasted blocks, padded tables, generated lists.

    Only *significant* lines count: stripped, at least ``min_line_chars`` characters long, so that the ``}``,
    ``end`` and ``pass`` lines every program repeats do not. Rejections, scored with the measured fraction:
    ``code_duplicate_lines`` (the share of significant lines whose text occurs more than once, above
    ``max_duplicate_line_fraction``) and ``code_repeated_line`` (the share taken by the most frequent significant
    line when it occurs more than once, above ``max_top_line_fraction``). A file without significant lines has no
    fractions and is kept by these rules (the length filter judges empty files); a null one is rejected. Gopher's
    duplicate-line rule (Rae et al. 2021), as DataFlow's ``DocQualityFilter`` applies it to code, counts every
    non-blank line, braces included.
    """

    references = ("Rae et al. 2021, Scaling Language Models: Methods, Analysis & Insights from Training Gopher",)

    min_line_chars: int = Field(5, ge=1, description="Shortest stripped line that counts")
    max_duplicate_line_fraction: float = Field(0.5, ge=0, le=1, description="Largest share of duplicated lines kept")
    max_top_line_fraction: float = Field(0.3, ge=0, le=1, description="Largest share of the most repeated line kept")

    def rules(
        self, *, input_code_key: Read = "code", input_language_key: Read = "language", input_path_key: Read = "path"
    ) -> dict[str, Rule]:
        lines = pl.col(input_code_key).str.split("\n").list.eval(pl.element().str.strip_chars())
        significant = lines.list.eval(pl.element().filter(pl.element().str.len_chars() >= self.min_line_chars))
        duplicated = significant.list.eval(pl.element().is_duplicated().cast(pl.Float64)).list.mean()
        duplicated = duplicated.alias("code_duplicate_line_fraction")
        most = significant.list.eval(pl.element().unique_counts()).list.max()
        top = (pl.when(most > 1).then(most / significant.list.len()).otherwise(0.0)).alias("code_top_line_fraction")
        return {
            "code_duplicate_lines": Rule(
                score=duplicated,
                keep=pl.col(input_code_key).is_not_null()
                & (duplicated.is_null() | (duplicated <= self.max_duplicate_line_fraction)),
            ),
            "code_repeated_line": Rule(score=top, keep=top.is_null() | (top <= self.max_top_line_fraction)),
        }
