"""Replace each regex match by a value computed from that match, with polars expressions only.

``str.replace_all`` gives every match of a row the same replacement, and ``str.replace_many`` takes one pattern
list for the whole column, so neither can decode ``&#8217;`` to its character or redact only the card numbers that
pass a checksum. :func:`rewrite_matches` cuts each text into segments that end with one match (the last segment
may end with none), rewrites each segment's trailing match and joins the segments again: list expressions, no
Python per row.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def rewrite_matches(text: pl.Expr, pattern: str, rewrite: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """``text`` with every match of ``pattern`` replaced by ``rewrite(match)``.

    ``rewrite`` receives the matched string (an expression over list elements) and returns its replacement; to
    keep a match, return it unchanged. ``pattern`` must not match the empty string and must not set global flags.
    A segment's match is found again by anchoring ``pattern`` at the segment's end; it starts where the segmenting
    scan's match did, since a match starting earlier in the segment would have been that scan's leftmost one.
    """
    # Rows without a match skip the list work: they are nulled here and taken back unchanged at the end.
    segments = pl.when(text.str.contains(pattern)).then(text).str.extract_all(rf"(?s).*?(?:{pattern}|\z)")
    # Two passes, so that the match is found once and ``rewrite`` reads it as a field instead of recomputing it
    # (eager polars does not eliminate common sub-expressions, and ``rewrite`` may use its argument many times).
    found = segments.list.eval(pl.struct(segment=pl.element(), match=pl.element().str.extract(rf"((?:{pattern}))\z")))
    segment, match = pl.element().struct.field("segment"), pl.element().struct.field("match")
    prefix = pl.coalesce(segment.str.head(-match.str.len_chars().cast(pl.Int64)), segment)
    rewritten = found.list.eval(pl.concat_str(prefix, rewrite(match), ignore_nulls=True)).list.join("")
    return pl.coalesce(rewritten, text)
