from __future__ import annotations

from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import PUNCTUATION, WHITESPACE, count_lines, judged, nonzero

FINAL_T = "tT\u0162-\u0165\u021a\u021b\u1e6a-\u1e71\u1e97"
"""Class body of the characters that NFD turns into ``t`` plus a combining mark (ţ ť ț ṫ ṭ ṯ ṱ ẗ and capitals)."""

JAVASCRIPT = f"[{PUNCTUATION}]*".join([*(f"[{c}{c.upper()}]" for c in "javascrip"), f"[{FINAL_T}]"])
"""'javascript' as DataFlow finds it in a normalized line: any case, with ASCII punctuation between the letters."""

NORMALIZED_LINE = f"[{WHITESPACE}{PUNCTUATION}--\n]*[^{WHITESPACE}{PUNCTUATION}]"
"""A line that DataFlow's normalization (punctuation removed, whitespace stripped) leaves non-empty."""

LINE_LIMIT = 3
"""DataFlow keeps every text of at most 3 lines, whatever ``threshold`` is: the 3 is written in its code."""


@register("dataflow_line_with_javascript")
class LineWithJavascriptFilter(Filter):
    """Reject pages whose lines mostly mention JavaScript: "enable JavaScript" notices and script residue.

    Reproduces DataFlow's ``LineWithJavascriptFilter`` (``rule_based_filter.py``, default 3): a text is kept if it
    has at most 3 lines (:data:`LINE_LIMIT`, fixed) or at least ``threshold`` lines without "javascript"
    (inclusive). Lines are those left non-empty by DataFlow's ``normalize`` (ASCII punctuation removed, lowercased,
    whitespace stripped, NFD), so a line of punctuation alone does not count, and because punctuation is removed
    first, "Java-Script" and "java.script" are matches while "java script" is not; NFD makes a final accented t
    ("javascripţ") a match too. Score ``dataflow_lines_without_javascript``; null and empty texts, and texts of
    whitespace and punctuation alone, are rejected without one.
    """

    threshold: int = Field(3, ge=0, description="Fewest lines without 'javascript' a text of over 3 lines needs")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        lines = judged(input_key, nonzero(count_lines(input_key, NORMALIZED_LINE)))
        without = (lines - count_lines(input_key, f"[^\n]*?{JAVASCRIPT}")).alias("dataflow_lines_without_javascript")
        return {self.name: Rule(score=without, keep=(lines <= LINE_LIMIT) | (without >= self.threshold))}
