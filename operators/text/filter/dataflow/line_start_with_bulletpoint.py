from __future__ import annotations

from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import LINE_WHITESPACE, count_lines, judged, non_blank_lines, nonzero

BULLETS = "\u2022\u2023\u25b6\u25c0\u25e6\u25a0\u25a1\u25aa\u25ab\u2013"
"""DataFlow's ``key_list``: • ‣ ▶ ◀ ◦ ■ □ ▪ ▫ and the en dash (U+2013). ASCII ``-`` and ``*`` are not bullets there."""


@register("dataflow_line_start_with_bulletpoint")
class LineStartWithBulletpointFilter(Filter):
    """Reject texts made almost only of bullet lines: menus, navigation and link lists.

    Reproduces DataFlow's ``LineStartWithBulletpointFilter`` (``rule_based_filter.py``, default 0.9): the share of
    non-blank lines (split on ``\\n`` only) that start, after leading whitespace, with one of :data:`BULLETS` may be
    at most ``threshold`` (inclusive: a share of exactly 0.9 is kept). Score ``dataflow_bullet_line_ratio``; null,
    empty and whitespace-only texts are rejected without one.
    """

    threshold: float = Field(0.9, ge=0, description="Largest share of bullet lines a kept text may have (inclusive)")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        bullet_lines = count_lines(input_key, f"{LINE_WHITESPACE}*[{BULLETS}]")
        share = judged(input_key, bullet_lines / nonzero(non_blank_lines(input_key)))
        share = share.alias("dataflow_bullet_line_ratio")
        return {self.name: Rule(score=share, keep=share <= self.threshold)}
