from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.code.base import CodeColumns
from operators.registry import register


@register("code_composition")
class CodeCompositionFilter(CodeColumns, Filter):
    """Reject files with too few letters or alphanumeric characters: numeric tables, symbol art, binary residue.

    Rejections, scored with the measured fraction: ``code_low_alphanumeric`` (letters and digits over all
    characters below ``min_alphanumeric_fraction``, 0.25 as in StarCoder and DataFlow) and ``code_low_alphabetic``
    (letters over the characters that are not whitespace below ``min_alphabetic_fraction``, 0.25 as NeMo Curator's
    ``AlphaFilter``; whitespace is left out so that indentation does not count against a file). An empty (or blank)
    file has no fractions and is rejected: it cannot be judged.
    """

    references = (
        "Li et al. 2023, StarCoder: may the source be with you!, arXiv:2305.06161",
        "NVIDIA NeMo Curator, code filters (AlphaFilter)",
    )

    min_alphanumeric_fraction: float = Field(0.25, ge=0, le=1, description="Smallest share of letters and digits")
    min_alphabetic_fraction: float = Field(
        0.25, ge=0, le=1, description="Smallest share of letters among the characters that are not whitespace"
    )

    def rules(
        self, *, input_code_key: Read = "code", input_language_key: Read = "language", input_path_key: Read = "path"
    ) -> dict[str, Rule]:
        code = pl.col(input_code_key)
        letters, length = code.str.count_matches(r"\p{L}"), code.str.len_chars()
        visible = length - code.str.count_matches(r"\s")
        alphanumeric = pl.when(length > 0).then((letters + code.str.count_matches(r"\p{N}")) / length)
        alphabetic = pl.when(visible > 0).then(letters / visible)
        alphanumeric = alphanumeric.alias("code_alphanumeric_fraction")
        alphabetic = alphabetic.alias("code_alphabetic_fraction")
        return {
            "code_low_alphanumeric": Rule(score=alphanumeric, keep=alphanumeric >= self.min_alphanumeric_fraction),
            "code_low_alphabetic": Rule(score=alphabetic, keep=alphabetic >= self.min_alphabetic_fraction),
        }
