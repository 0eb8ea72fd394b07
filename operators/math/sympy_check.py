"""The sympy part of the equivalence check, run in worker processes; it imports nothing from this project.

math-verify (Kydlíček et al., huggingface/Math-Verify) parses both normalized answers (LaTeX through its ANTLR
grammar) and compares them: numbers within ``float_rounding`` decimals, symbolic simplification, sets unordered,
intervals with their ends, matrices, relations such as ``x = 3`` against ``3``. Its own ``signal.alarm`` timeouts are
turned off: they fail outside a process's main thread, and ``operators.math.verify_pool`` bounds every check instead.
The module stays free of project imports so that a worker starts by importing it alone (no polars, no pyarrow).
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Verdict(StrEnum):
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"
    REFERENCE_UNPARSEABLE = "reference_unparseable"
    ANSWER_UNPARSEABLE = "answer_unparseable"


def squash(text: str) -> str:
    """``text`` without whitespace."""
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=1)
def _math_verify() -> Any:
    import math_verify

    # Timeouts are off on purpose (see the module docstring): silence the warning it logs about them.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    return math_verify


@lru_cache(maxsize=1)
def _latex_config() -> Any:
    """LaTeX extraction of a whole boxed answer, without math-verify's unit stripping: that drops a trailing
    letter after a number (``2d``, ``\\frac{1}{2}ab``) as if it were a unit; ``normalize_answer`` strips units."""
    mv = _math_verify()
    normalization = mv.LatexNormalizationConfig(
        basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="all", equations=False
    )
    return mv.LatexExtractionConfig(boxed_match_priority=0, normalization_config=normalization)


@lru_cache(maxsize=4096)
def parsed(answer: str) -> tuple[Any, ...]:
    """math-verify's parse of a whole normalized answer: sympy objects first, then its text fallback.

    The answer is read as LaTeX in one piece (``first_match``): math-verify's default would fall back to any part
    of it that parses (``\\frac{1}{2}`` out of ``\\frac{1}{2}ab``), which could make a wrong answer look right.
    Plain-text expressions (``sqrt(2)/2``) that LaTeX cannot read are tried as expressions, accepted only when the
    expression covers the whole answer.
    """
    mv = _math_verify()
    latex = mv.parse(
        f"\\boxed{{{answer}}}", extraction_config=[_latex_config()], extraction_mode="first_match", parsing_timeout=None
    )
    if _has_math(tuple(latex)):
        return tuple(latex)
    expression = mv.parse(
        answer, extraction_config=[mv.ExprExtractionConfig()], extraction_mode="first_match", parsing_timeout=None
    )
    covered = any(isinstance(value, str) and squash(value) == squash(answer) for value in expression)
    return tuple(expression) if covered and _has_math(tuple(expression)) else tuple(latex)


def _has_math(values: tuple[Any, ...]) -> bool:
    return any(not isinstance(value, str) for value in values)


def _brackets(answer: str) -> str | None:
    """``set`` for ``\\{...\\}``, ``sequence`` for a parenthesized or bracketed list, else None."""
    if answer.startswith("\\{") and answer.endswith("\\}"):
        return "set"
    if answer[:1] in "([" and answer[-1:] in ")]" and "," in answer:
        return "sequence"
    return None


def sympy_verdict(reference: str, answer: str, float_rounding: int = 6) -> str:
    """The verdict of math-verify on two normalized answers, equivalent when either direction says so.

    math-verify is not symmetric: an interval as gold matches no relation, while ``x > 3`` as gold matches
    ``(3, \\infty)``; ``0 < x < 1`` and ``(0, 1)`` are the same answer whichever is the reference."""
    kinds = {_brackets(reference), _brackets(answer)}
    if kinds == {"set", "sequence"}:  # math-verify equates {1, 2} with (1, 2), read as a pair
        return Verdict.DIFFERENT.value
    gold = parsed(reference)
    if not _has_math(gold):
        return Verdict.REFERENCE_UNPARSEABLE.value
    target = parsed(answer)
    if not _has_math(target):
        return Verdict.ANSWER_UNPARSEABLE.value
    if _verify(gold, target, float_rounding) or (
        _has_relation(gold + target) and _verify(target, gold, float_rounding)
    ):
        return Verdict.EQUIVALENT.value
    # "12.5\%" stands for 12.5 as often as for 0.125: math-verify accepts both readings for whole percentages only.
    bare = [_without_percent(side) for side in (reference, answer)]
    if bare != [reference, answer] and all(bare) and _verify(parsed(bare[0]), parsed(bare[1]), float_rounding):
        return Verdict.EQUIVALENT.value
    return Verdict.DIFFERENT.value


def _has_relation(values: tuple[Any, ...]) -> bool:
    """An equation or inequality among the parsed values: the only case where math-verify's direction matters."""
    return any(getattr(value, "is_Relational", False) or type(value).__name__ in ("And", "Or") for value in values)


def _without_percent(answer: str) -> str:
    return answer[: -len("\\%")].strip() if answer.endswith("\\%") else answer


def _verify(gold: tuple[Any, ...], target: tuple[Any, ...], float_rounding: int) -> bool:
    return _math_verify().verify(list(gold), list(target), float_rounding=float_rounding, timeout_seconds=None)
