from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register

_REF_TAG = r"(?is)<ref\b[^>]*/>|<ref(?:\s[^>]*[^/>])?>.*?(?:</ref\s*>|\z)"
"""A wiki ``<ref>`` footnote: self-closing (``<ref name="a"/>``), or an opening tag with everything up to its
closing tag, or to the end of the text when the closing tag is missing (a truncated page). The two forms are
written so that no text matches both: polars does not always prefer the first alternative."""

_CITE_TEMPLATE = r"(?i)\{\{\s*(?:cite|citation|sfn|harvnb|efn|refn|rp)\b(?:[^{}]|\{\{[^{}]*\}\})*(?:\}\}|\z)"
"""A citation template: ``{{cite web|...}}``, ``{{Citation|...}}``, ``{{sfn|...}}``, ``{{harvnb|...}}``, footnote
templates (``{{efn}}``, ``{{refn}}``) and page markers (``{{rp|12}}``), with one level of nested templates inside
(``{{cite web|date={{date|2020}}}}``); an unclosed one runs to the end of the text."""

_NUMERIC_MARKER = (
    r"\[(?:\d+(?:\s*[-\x{2013},]\s*\d+)*|citation needed|clarification needed|according to whom\?|by whom\?)\]"
)
"""Footnote markers left in extracted text: ``[1]``, ``[2, 3]``, ``[4-6]`` (hyphen or en dash), and inline
maintenance tags."""


@register("remove_references")
class RemoveReferencesRefiner(Refiner):
    """Remove reference and citation markup from wiki-derived text: ``<ref>`` footnotes, ``{{cite ...}}`` templates
    and bracketed footnote markers.

    Covers DataFlow's ``ReferenceRemoverRefiner`` (``<ref>`` tags and ``{{cite}}`` templates, closed or cut off at
    the end of the text). DataFlow's version computes the cleaned text and then stores the original, so it changes
    nothing; this one also takes self-closing ``<ref name=.../>`` tags, ``{{citation}}``, ``{{sfn}}``, ``{{harvnb}}``,
    ``{{efn}}``, ``{{refn}}`` and ``{{rp}}`` templates with one level of nesting, and (``markers=True``) the
    markers ``[1]``, ``[2, 3]``, ``[4-6]`` and ``[citation needed]`` that remain when a page was rendered before
    extraction. Whitespace left around a removal stays: follow with ``normalize_text`` to collapse it.
    """

    markers: bool = Field(True, description="Also remove bracketed footnote markers such as [1] and [citation needed]")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        text = pl.col(input_key).str.replace_all(_REF_TAG, "").str.replace_all(_CITE_TEMPLATE, "")
        return {output_key: text.str.replace_all(_NUMERIC_MARKER, "") if self.markers else text}
