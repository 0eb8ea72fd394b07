from __future__ import annotations

from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import LINE_WHITESPACE, count_lines, judged, non_blank_lines, nonzero


@register("dataflow_line_end_with_ellipsis")
class LineEndWithEllipsisFilter(Filter):
    """Reject texts where too many lines end with an ellipsis: truncated snippets and teaser lists.

    Reproduces DataFlow's ``LineEndWithEllipsisFilter`` (``rule_based_filter.py``, default 0.3): the share of
    non-blank lines (split on ``\\n`` only) that end, before trailing whitespace, with ``...`` or ``…`` must stay
    *below* ``threshold`` (exclusive: a share of exactly 0.3 is rejected). Score
    ``dataflow_ellipsis_line_ratio``; null, empty and whitespace-only texts are rejected without one.
    """

    threshold: float = Field(0.3, ge=0, description="Share of lines ending with an ellipsis a kept text stays below")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        ellipsis_lines = count_lines(input_key, rf"[^\n]*?(?:\.\.\.|…){LINE_WHITESPACE}*$")
        share = judged(input_key, ellipsis_lines / nonzero(non_blank_lines(input_key)))
        share = share.alias("dataflow_ellipsis_line_ratio")
        return {self.name: Rule(score=share, keep=share < self.threshold)}
