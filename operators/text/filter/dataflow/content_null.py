from __future__ import annotations

import polars as pl

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import WHITESPACE


@register("dataflow_content_null")
class ContentNullFilter(Filter):
    """Reject null, empty and whitespace-only texts.

    Reproduces DataFlow's ``ContentNullFilter`` (``rule_based_filter.py``, ``text is not None and text.strip() !=
    ''``), which has no parameter. Whitespace is Python's, so a text of U+001C..U+001F separators counts as empty.
    Score ``dataflow_has_content``: 1 or 0, null for a null text.
    """

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        has_content = pl.col(input_key).str.contains(f"[^{WHITESPACE}]").alias("dataflow_has_content")
        return {self.name: Rule(score=has_content, keep=has_content)}
