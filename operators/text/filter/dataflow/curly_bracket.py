from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged


@register("dataflow_curly_bracket")
class CurlyBracketFilter(Filter):
    """Reject texts dense in curly brackets: code, JSON and template residue.

    Reproduces DataFlow's ``CurlyBracketFilter`` (``rule_based_filter.py``, default 0.025): ``{`` and ``}`` over
    all characters (whitespace included) must stay below ``threshold`` (exclusive: 1 bracket in 40 characters is
    rejected). Score ``dataflow_curly_bracket_ratio``; null and empty texts are rejected without one.
    """

    threshold: float = Field(0.025, ge=0, description="Share of curly brackets a kept text stays below")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = pl.col(input_key)
        share = judged(input_key, text.str.count_matches(r"[{}]") / text.str.len_chars())
        share = share.alias("dataflow_curly_bracket_ratio")
        return {self.name: Rule(score=share, keep=share < self.threshold)}
