"""Answers made of plain numbers, compared without sympy: numbers, sets, tuples, intervals, matrices, ``x = 3``.

Most final answers are plain numbers or small structures of them. Reading them with math-verify costs an ANTLR
parse of each side (about 10 ms warm, 50 ms cold, in pure Python); reading them here costs microseconds and needs no
worker process. The comparison follows math-verify's rules so that the verdict does not depend on which path
decided it: numbers are equal exactly as rationals, or after rounding both to ``float_rounding`` decimals when
either is written with a decimal point (below 0.1: to as many significant digits, where math-verify would call
1.6e-19 and 1.6e-10 equal); a percentage ``X\\%`` matches ``X`` and ``X/100``; sets (``\\{...\\}`` or a
bare list ``1, 2``) are unordered; parenthesized or bracketed lists are ordered and keep their bracket kinds (an open
interval is not a closed one); matrices compare entry by entry whatever their environment; ``x = 3`` matches ``3``.
Anything else (a root, a symbol, a mixed pair such as a set against a tuple) returns None and goes to math-verify.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

_INTEGER = r"[+-]?\d+"
_SIMPLE_NUMBER = re.compile(
    rf"(?P<sign>[+-]?)\s*(?:"
    rf"(?P<decimal>\d*\.\d+|\d+\.?)"
    rf"|(?P<num>{_INTEGER})/(?P<den>{_INTEGER})"
    rf"|(?P<whole>\d+)?\s*\\frac(?:\{{(?P<fnum>{_INTEGER})\}}\{{(?P<fden>{_INTEGER})\}}|(?P<d1>\d)(?P<d2>\d))"
    rf")\s*(?P<percent>\\%)?"
)
_INFINITY = re.compile(r"([+-]?)\s*\\infty")
_MATRIX = re.compile(r"\\begin\{[pbB]?matrix\}(.*)\\end\{[pbB]?matrix\}", re.DOTALL)  # vmatrix: a determinant
_ASSIGNMENT = re.compile(r"(?:[A-Za-z]|\\[a-z]+)\s*=\s*([^=<>]+)")


@dataclass(frozen=True)
class Number:
    value: Fraction
    decimal: bool
    """Written with a decimal point: compared after rounding, as math-verify compares floats."""
    percent: bool


@dataclass(frozen=True)
class Infinity:
    negative: bool


Element = Number | Infinity


def simple_number(answer: str) -> Number | None:
    """An answer that is just a number (``-3``, ``0.25``, ``3/4``, ``\\frac{3}{4}``, ``2\\frac{1}{3}``, ``12.5\\%``)."""
    match = _SIMPLE_NUMBER.fullmatch(answer.strip())
    if match is None:
        return None
    groups = match.groupdict()
    if groups["decimal"] is not None:
        value, decimal = Fraction(groups["decimal"].rstrip(".") or "0"), "." in groups["decimal"]
    else:
        numerator = groups["num"] or groups["fnum"] or groups["d1"]
        denominator = groups["den"] or groups["fden"] or groups["d2"]
        if int(denominator) == 0:
            return None
        value, decimal = Fraction(int(numerator), int(denominator)) + int(groups["whole"] or 0), False
    return Number(-value if groups["sign"] == "-" else value, decimal, groups["percent"] is not None)


def _element(text: str) -> Element | None:
    text = unassigned(text)
    infinity = _INFINITY.fullmatch(text)
    if infinity:
        return Infinity(infinity.group(1) == "-")
    return simple_number(text)


def _readings(number: Number) -> tuple[Fraction, ...]:
    return (number.value, number.value / 100) if number.percent else (number.value,)


def elements_equal(left: Element, right: Element, float_rounding: int) -> bool:
    if isinstance(left, Infinity) or isinstance(right, Infinity):
        return left == right
    rounded = left.decimal or right.decimal
    for a in _readings(left):
        for b in _readings(right):
            if _close(a, b, float_rounding) if rounded else a == b:
                return True
    return False


def _close(a: Fraction, b: Fraction, decimals: int) -> bool:
    """Equal after rounding to ``decimals`` places, or below 0.1 to as many significant digits: math-verify rounds to
    6 places whatever the size, so 1.6e-19 and 1.6e-10 would both be 0."""
    scale = max(abs(a), abs(b))
    if scale == 0:
        return True
    magnitude = math.floor(math.log10(scale.numerator) - math.log10(scale.denominator))
    places = decimals + max(0, -magnitude - 1)
    return round(a, places) == round(b, places)


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Plain:
    """A plain answer: ``kind`` is ``number``, ``set``, ``list`` (bare, read as a set), ``matrix`` or the bracket
    pair of a sequence (``(]``)."""

    kind: str
    items: tuple[tuple[Element, ...], ...]


def _elements(parts: list[str]) -> tuple[Element, ...] | None:
    elements = tuple(_element(part) for part in parts)
    return None if any(e is None for e in elements) or not elements else elements  # type: ignore[return-value]


def unassigned(text: str) -> str:
    """``x = 3`` -> ``3``: math-verify accepts an assignment to a single variable for its value."""
    assignment = _ASSIGNMENT.fullmatch(text.strip())
    return assignment.group(1).strip() if assignment else text.strip()


def plain(answer: str) -> Plain | None:
    """``answer`` read as a plain answer, or None."""
    text = unassigned(answer)
    number = simple_number(text)
    if number is not None:
        return Plain("number", ((number,),))
    matrix = _MATRIX.fullmatch(text)
    if matrix:
        rows = [_elements(row.split("&")) for row in matrix.group(1).split("\\\\") if row.strip()]
        if not rows or any(row is None for row in rows) or len({len(row) for row in rows}) != 1:
            return None
        return Plain("matrix", tuple(rows))  # type: ignore[arg-type]
    if text.startswith("\\{") and text.endswith("\\}"):
        kind, inner = "set", text[2:-2]
    elif text[:1] in "([" and text[-1:] in ")]" and "," in text:
        kind, inner = text[0] + text[-1], text[1:-1]
    elif "," in text:
        kind, inner = "list", text  # a bare list: math-verify reads "1, 2" as the set {1, 2}
    else:
        return None
    elements = _elements(_split_top_level(inner, ","))
    return Plain(kind, (elements,)) if elements is not None else None


def plain_equal(reference: str, answer: str, float_rounding: int) -> bool | None:
    """Whether two plain answers are equal; None when either is not plain or they are of kinds left to sympy."""
    left, right = plain(reference), plain(answer)
    if left is None or right is None:
        return None
    kinds = {left.kind, right.kind}
    if kinds <= {"set", "list"}:
        return _same_set(left.items[0], right.items[0], float_rounding)
    if left.kind != right.kind:
        sequences = kinds - {"number", "set", "list", "matrix"}
        if len(sequences) == 2 or (sequences and "set" in kinds):
            return False  # an open interval is not a closed one; a set is not a pair
        return None
        return _same_set(left.items[0], right.items[0], float_rounding)
    shapes = [len(row) for row in left.items], [len(row) for row in right.items]
    if shapes[0] != shapes[1]:
        return False
    return all(
        elements_equal(a, b, float_rounding)
        for row_a, row_b in zip(left.items, right.items, strict=True)
        for a, b in zip(row_a, row_b, strict=True)
    )


def _same_set(left: tuple[Element, ...], right: tuple[Element, ...], float_rounding: int) -> bool:
    def covered(items: tuple[Element, ...], by: tuple[Element, ...]) -> bool:
        return all(any(elements_equal(item, other, float_rounding) for other in by) for item in items)

    return covered(left, right) and covered(right, left)
