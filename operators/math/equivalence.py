"""Are two final answers the same mathematical object? The part of the verdict that needs no sympy.

``quick_verdict`` decides in the calling process what it can: answers written alike, answers made of plain numbers
(``operators.math.plain``), multiple-choice letters and word answers. The rest goes to
``operators.math.sympy_check`` in a worker process.
"""

from __future__ import annotations

from operators.math.answer import choice_letter, text_answer
from operators.math.plain import plain_equal, unassigned
from operators.math.sympy_check import Verdict, squash


def quick_verdict(reference: str, answer: str, float_rounding: int = 6) -> Verdict | None:
    """The verdict when it needs no sympy (same text, plain numbers, option letters, words), else None."""
    if squash(unassigned(reference)) == squash(unassigned(answer)):
        return Verdict.EQUIVALENT
    same = plain_equal(reference, answer, float_rounding)
    if same is not None:
        return Verdict.EQUIVALENT if same else Verdict.DIFFERENT
    letter = choice_letter(reference)
    if letter is not None:
        return Verdict.EQUIVALENT if choice_letter(answer) == letter else Verdict.DIFFERENT
    words = text_answer(reference), text_answer(answer)
    if words[0] is not None or words[1] is not None:
        return Verdict.EQUIVALENT if words[0] == words[1] else Verdict.DIFFERENT
    return None
