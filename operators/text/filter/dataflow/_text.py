"""Expressions shared by the DataFlow rule filters: DataFlow's Python string handling, written as polars regexes.

DataFlow's rules are Python loops over ``str`` methods (``split()``, ``strip()``, ``re`` with Unicode ``\\w``).
The classes below reproduce those definitions exactly for the characters Python's Unicode tables know, which is
what lets the filters decide like DataFlow's code does. Every helper builds the same expression for the same
input, so that in a ``Sequential`` polars can compute a count that several filters share once.
"""

from __future__ import annotations

import polars as pl

WHITESPACE = r"\s\x1c-\x1f"
"""Class body of Python's whitespace (``str.isspace``, what ``str.split()`` and ``strip()`` use): Unicode
White_Space plus the ASCII separators U+001C..U+001F, which the regex ``\\s`` leaves out."""

PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""The same characters listed, for ``strip_chars``."""

WORD = r"\p{L}\p{N}_"
"""Class body of Python's ``re`` ``\\w`` on ``str`` (``isalnum()`` or ``_``). The regex ``\\w`` of polars differs:
it also takes combining marks and connector punctuation, and not numerics such as ``²``."""

PUNCTUATION = r"\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e"
"""Class body of Python's ``string.punctuation``: the ASCII punctuation and symbols."""

LINE_WHITESPACE = rf"[{WHITESPACE}--\n]"
"""Whitespace inside one line: DataFlow splits lines on ``\\n`` alone."""

TOKEN = rf"[^{WHITESPACE}]+"
"""A word of ``str.split()``: a maximal run of non-whitespace."""


def judged(input_key: str, value: pl.Expr) -> pl.Expr:
    """``value`` where the text is a non-empty string, else null: DataFlow's ``if text:`` guard, under which a null
    or empty text is rejected. A null score makes the rule reject the row.

    The guard is added (0 or null) rather than wrapping ``value`` in ``when/then``: polars' common-subexpression
    elimination does not look into ``when/then`` branches, and a rule's keep condition repeats its score.
    """
    return value + pl.when(pl.col(input_key).str.len_bytes() > 0).then(0)


def nonzero(count: pl.Expr) -> pl.Expr:
    """``count`` with 0 made null: a ratio over it is null, and rejects the row, where DataFlow rejects it."""
    return count.replace(0, None)


def word_count(input_key: str) -> pl.Expr:
    """``len(text.split())``."""
    return pl.col(input_key).str.count_matches(TOKEN)


def lowercase(input_key: str) -> pl.Expr:
    """``text.lower()`` (full Unicode case mapping, as Python's)."""
    return pl.col(input_key).str.to_lowercase()


def lowercase_words(input_key: str) -> pl.Expr:
    """``text.lower().split()`` as a list."""
    return lowercase(input_key).str.extract_all(TOKEN)


def count_lines(input_key: str, line_pattern: str) -> pl.Expr:
    """How many lines (split on ``\\n``) match ``line_pattern`` from their start; each line counts at most once.

    DataFlow's ``split_paragraphs`` keeps the lines that are not blank; ``line_pattern`` is written from the line
    start, e.g. leading whitespace then a bullet. ``$`` in it means the end of the line.
    """
    return pl.col(input_key).str.count_matches(f"(?m)^{line_pattern}")


def non_blank_lines(input_key: str) -> pl.Expr:
    """Lines with a non-whitespace character: the lines of DataFlow's ``split_paragraphs(remove_empty=True)``."""
    return count_lines(input_key, f"{LINE_WHITESPACE}*[^{WHITESPACE}]")


def python_round(value: pl.Expr, decimals: int) -> pl.Expr:
    """Python's ``round(value, decimals)`` for ``decimals`` from 0 to 7.

    Python rounds the exact binary value half to even; polars' ``round`` rounds ``value * 10**decimals`` after that
    product was itself rounded to a double, which differs about once in 5,000 ratios (Python rounds 43/40 to 1.07,
    polars to 1.08). The arithmetic below refers to ``value`` many times, and polars' common-subexpression
    elimination does not reach repeats nested inside repeats, so ``value`` is bound once as a list element.
    """
    return pl.concat_list(value).list.eval(_python_round(pl.element(), decimals)).list.first()


def _python_round(value: pl.Expr, decimals: int) -> pl.Expr:
    """Dekker's product splits ``value * scale`` exactly into ``product + error``; the error decides the products
    that land exactly on a half. The rounded decimal is then parsed, which gives the double nearest to it as Python
    does; dividing by the scale would not (polars multiplies by its reciprocal: 140 / 100 gives 1.4000000000000001).
    """
    scale = 10.0**decimals
    spread = value * 134_217_729.0  # 2**27 + 1: Veltkamp's split into two 26-bit halves
    high = spread - (spread - value)
    low = value - high
    product = value * scale
    error = (high * scale - product) + low * scale
    floor = product.floor()
    nearest = product.round(0, mode="half_to_even")
    on_half = (product - floor) == 0.5
    round_up = (on_half & (error > 0) & (nearest == floor)).cast(pl.Int8)
    round_down = (on_half & (error < 0) & (nearest > floor)).cast(pl.Int8)
    rounded = nearest + round_up - round_down
    return pl.format(f"{{}}e-{decimals}", rounded.cast(pl.Int64)).cast(pl.Float64)
