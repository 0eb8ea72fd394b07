"""Text features shared by the text filters: words, lines and paragraphs.

Each feature is built by one function, so every rule that needs it holds the same expression tree and polars'
common-subexpression elimination can compute it once per pass, also across the filters a ``Sequential`` fuses.
Two limits of that elimination (polars 2.1) shape the rules: an expression containing ``list.eval``,
``list.filter``, ``list.agg``, ``list.unique`` or ``over`` is never shared, so shared rule features are string or
regex operations on the text (``count_matches`` ...); and only the outermost repeated expression is shared, so a
feature is shared only if no larger expression around it is repeated too (``total == 0`` next to
``part / total`` makes ``total`` computed twice).
"""

from __future__ import annotations

import polars as pl

LINE_BREAK = r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x{85}\x{2028}\x{2029}]"
"""Line breaks other than ``\\n`` (those of Python's ``str.splitlines``), turned into ``\\n`` before splitting."""

_BLANK_LINES = r"\n[^\S\n]*\n\s*"
"""A paragraph break: a line break, then a line holding nothing but whitespace (and any whitespace after it)."""

_PARAGRAPH_BREAK = "\u2029"
"""Marks paragraph breaks before splitting; it cannot occur in the text by then (it is a line break, see above)."""


def words(text: pl.Expr) -> pl.Expr:
    """The words of the text: maximal runs of non-whitespace characters (punctuation stays attached)."""
    return text.str.extract_all(r"\S+")


def unix_lines(text: pl.Expr) -> pl.Expr:
    """The text with every line break turned into ``\\n``, so that ``(?m)^`` and ``$`` see every line."""
    return text.str.replace_all(LINE_BREAK, "\n")


def lines(text: pl.Expr) -> pl.Expr:
    """The non-blank lines of the text, stripped of surrounding whitespace; any line break separates lines."""
    return _stripped_non_empty(unix_lines(text).str.split("\n"))


def paragraphs(text: pl.Expr) -> pl.Expr:
    """The paragraphs of the text: runs of non-blank lines separated by blank ones, stripped of surrounding
    whitespace."""
    marked = unix_lines(text).str.replace_all(_BLANK_LINES, _PARAGRAPH_BREAK)
    return _stripped_non_empty(marked.str.split(_PARAGRAPH_BREAK))


def _stripped_non_empty(pieces: pl.Expr) -> pl.Expr:
    return pieces.list.eval(pl.element().str.strip_chars()).list.filter(pl.element() != "")
