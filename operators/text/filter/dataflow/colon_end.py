from __future__ import annotations

import polars as pl

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged


@register("dataflow_colon_end")
class ColonEndFilter(Filter):
    """Reject texts that end with a colon: a cut-off list or an unanswered question lead-in.

    Reproduces DataFlow's ``ColonEndFilter`` (``rule_based_filter.py``), which has no parameter. The last character
    itself must be an ASCII ``:``: trailing whitespace after it, or a full-width colon (U+FF1A), passes, as in DataFlow.
    Score ``dataflow_ends_with_colon``: 1 or 0; null or empty texts are rejected without a score.
    """

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        ends_with_colon = judged(input_key, pl.col(input_key).str.ends_with(":")).alias("dataflow_ends_with_colon")
        return {self.name: Rule(score=ends_with_colon, keep=ends_with_colon == 0)}
