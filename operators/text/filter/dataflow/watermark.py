from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged


@register("dataflow_watermark")
class WatermarkFilter(Filter):
    """Reject texts that carry a copyright or confidentiality notice.

    Reproduces DataFlow's ``WatermarkFilter`` (``rule_based_filter.py``, default ``['Copyright', 'Watermark',
    'Confidential']``): the entries are joined with ``|`` into one regular expression, unescaped and
    case-sensitive, and any match rejects the text. So "Copyrighted" matches and "copyright" or "CONFIDENTIAL" do
    not. The entries are regexes in polars' (Rust) syntax, which matches Python's for plain words. Score
    ``dataflow_watermark_count``: matches found; null and empty texts are rejected without one.
    """

    watermarks: tuple[str, ...] = Field(
        ("Copyright", "Watermark", "Confidential"),
        min_length=1,
        description="Watermark patterns, joined with '|' into one case-sensitive regex (an empty list would match "
        "every text in DataFlow)",
    )

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        found = judged(input_key, pl.col(input_key).str.count_matches("|".join(self.watermarks)))
        found = found.alias("dataflow_watermark_count")
        return {self.name: Rule(score=found, keep=found == 0)}
