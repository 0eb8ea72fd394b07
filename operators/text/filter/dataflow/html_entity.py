from __future__ import annotations

import polars as pl

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged

ENTITY_NAMES = (
    *("nbsp", "lt", "gt", "amp", "quot", "apos", "hellip"),
    *("ndash", "mdash", "lsquo", "rsquo", "ldquo", "rdquo"),
)
"""The entity names DataFlow looks for."""

HTML_ENTITY = f"[&\uff06](?:{'|'.join(ENTITY_NAMES)})"
"""An ASCII or full-width ampersand and an entity name; DataFlow's list also has every form without ``;``."""


@register("dataflow_html_entity")
class HtmlEntityFilter(Filter):
    """Reject texts that contain an HTML entity: markup that an extractor left unescaped.

    Reproduces DataFlow's ``HtmlEntityFilter`` (``rule_based_filter.py``), which has no parameter. Because
    DataFlow's list includes the forms without a semicolon ("&amp"), any ``&`` or full-width ampersand (U+FF06)
    directly followed by one of :data:`ENTITY_NAMES` rejects the text, case-sensitively: "&amp;", but also
    "&ample" and "&gtfo", while "&AMP;" and numeric entities like "&#39;" pass. Score
    ``dataflow_html_entity_count``: entities found; null and empty texts are rejected without one.
    """

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        entities = judged(input_key, pl.col(input_key).str.count_matches(HTML_ENTITY))
        entities = entities.alias("dataflow_html_entity_count")
        return {self.name: Rule(score=entities, keep=entities == 0)}
