"""Plain answers are decided without sympy, and the decision is the one math-verify would make."""

import pytest

from operators.math.equivalence import quick_verdict
from operators.math.plain import plain_equal
from operators.math.sympy_check import Verdict, sympy_verdict

CASES = [
    ("0.5", r"\frac{1}{2}", True),
    (r"\frac{1}{3}", "0.33", False),
    (r"\frac{1}{3}", "0.3333333", True),  # decimals compare after rounding to 6 places, as math-verify does
    ("3", "3.0", True),
    ("-0.75", r"\frac{-3}{4}", True),
    (r"2\frac{1}{3}", r"\frac{7}{3}", True),  # a mixed number
    (r"50\%", "0.5", True),
    (r"50\%", "50", True),
    (r"2.5\%", "25", False),
    ("x = 3", "3", True),
    ("x = 3", "-3", False),
    (r"\{1, 2, 3\}", r"\{3, 2, 1\}", True),
    ("1, 2", r"\{2, 1\}", True),
    (r"\{1, 2\}", r"\{1, 2, 3\}", False),
    ("[1, 2)", "[1, 2]", False),
    ("(1, 2]", "(1, 2]", True),
    (r"(-\infty, 3]", r"(-\infty, 3)", False),
    ("(1, 2, 3)", "(3, 2, 1)", False),
    (r"\{1, 2\}", "(1, 2)", False),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}", True),
    (r"\begin{pmatrix} 1/2 \\ 3 \end{pmatrix}", r"\begin{pmatrix} 0.5 \\ 3 \end{pmatrix}", True),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}", False),
]


@pytest.mark.parametrize(("reference", "answer", "same"), CASES)
def test_plain_answers_are_compared_as_math_verify_compares_them(reference, answer, same):
    assert plain_equal(reference, answer, 6) is same
    assert (sympy_verdict(reference, answer) == Verdict.EQUIVALENT) is same


@pytest.mark.parametrize(
    ("reference", "answer", "same"),
    [
        ("0.00000000000000000016", "0.00000000016", False),
        ("0.0333333", r"\frac{1}{30}", True),
        ("0.0000012", "0.0000013", False),
    ],
)
def test_small_numbers_keep_their_significant_digits(reference, answer, same):
    # math-verify rounds to 6 places whatever the size: 1.6e-19 and 1.6e-10 would both be 0
    assert plain_equal(reference, answer, 6) is same


@pytest.mark.parametrize(
    ("reference", "answer"), [(r"\sqrt{2}", "1.41421356"), ("x + 1", "1 + x"), ("0", r"\{0\}"), ("1, 2", "(1, 2)")]
)
def test_anything_else_is_left_to_sympy(reference, answer):
    assert plain_equal(reference, answer, 6) is None


@pytest.mark.parametrize(
    ("reference", "answer", "verdict"),
    [
        ("B", "(B)", Verdict.EQUIVALENT),
        ("B", "(B) 36", Verdict.EQUIVALENT),
        ("B", "C", Verdict.DIFFERENT),
        ("B", "12", Verdict.DIFFERENT),
        ("Monday", "monday", Verdict.EQUIVALENT),
        ("listen", "silent", Verdict.DIFFERENT),  # sympy would read both as the product of the same six symbols
        ("yes", "no", Verdict.DIFFERENT),
        (r"\frac{1}{2}", r"\frac{1}{2}", Verdict.EQUIVALENT),
        (r"\sqrt{8}", r"2\sqrt{2}", None),
    ],
)
def test_quick_verdicts(reference, answer, verdict):
    assert quick_verdict(reference, answer) == verdict
