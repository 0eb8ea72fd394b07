"""Final-answer extraction and normalization, edge by edge."""

import pytest

from operators.math.answer import choice_letter, extract_answer, normalize_answer, text_answer


@pytest.mark.parametrize(
    ("solution", "expected"),
    [
        (r"So $x = \boxed{\frac{\sqrt{3}}{2}}$.", r"\frac{\sqrt{3}}{2}"),  # nested braces
        (r"The set is $\boxed{\{1, 2\}}$.", r"\{1, 2\}"),  # escaped braces inside
        (r"We get \fbox{12} in the end.", "12"),
        (r"Hence \boxed 5.", "5"),
        (r"Try $\boxed{4}$: it fails. The answer is $\boxed{6}$.", "6"),  # the last box wins
        (r"So $\boxed{\text{The answer is 42.}}$", "42"),  # a box around a sentence: the answer in it
        (r"So $\boxed{\boxed{E}}$.", r"\boxed{E}"),  # the outer box is the answer (normalization unwraps it)
        (r"$\boxed{So, $x = 5$ or $x = -5$.}$", "x = 5, x = -5"),
        (r"The roots are $\boxed{2}$ and $\boxed{3}$.", "2, 3"),  # adjacent boxes are one answer
        (r"The answer is $\frac{1}{2}$.", r"\frac{1}{2}"),
        ("Final Answer: The final answer is $3$. I hope it is correct.", "3"),
        ("**Final Answer**: $x = 5$", "x = 5"),
        ("The answer is 42 apples.", "42 apples"),
        ("The answer is 3.5.", "3.5"),
        ("Janet sells 9 eggs for 9 * 2 = 18 dollars.\n#### 18", "18"),
        ("The correct option is (D).", "(D)"),
        (r"\frac{3}{4}", r"\frac{3}{4}"),  # a bare answer is its own answer
        ("x = 3", "x = 3"),
        ("no solution", "no solution"),
        ("Adding them, the total becomes 3 + 4 = 7 here.", "7"),  # the last expression
        (r"The perimeter is $2(3+5) = 16$ cm.", "16"),  # the last side of a chain of equalities
        ("So, $x = 5$ or $x = -5$.", "x = 5, x = -5"),  # spans joined by "or" are one answer
        ("I think the answer is 7, but I am not sure.", "7"),
        ("I do not know how to solve this problem.", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_answer(solution, expected):
    assert extract_answer(solution) == expected


def test_an_unclosed_box_is_not_an_answer():
    assert extract_answer(r"so the answer is \boxed{\frac{1}{2}") != r"\frac{1}{2"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (r"$\dfrac{1}{2}$", r"\frac{1}{2}"),
        (r"\tfrac{3}{4}", r"\frac{3}{4}"),
        (r"\left( 1, 2 \right]", "( 1, 2 ]"),
        (r"\displaystyle 5", "5"),
        (r"90^\circ", "90"),
        (r"90^{\circ}", "90"),
        ("45\u00b0", "45"),
        ("30 degrees", "30"),
        (r"5 \text{ cm}", "5"),
        (r"12 \text{ cm}^2", "12"),
        (r"10 \text{ m/s}", "10"),
        ("5 m", "5"),
        ("2m", "2m"),  # no space: possibly 2 times m, kept
        ("42 apples", "42"),
        (r"\$1,250", "1250"),
        ("12.50 dollars", "12.50"),
        ("1,000", "1000"),
        ("1,234,567.5", "1234567.5"),
        ("1{,}000", "1000"),
        (r"1\,000", "1000"),
        ("1 000 000", "1000000"),
        ("1,5", "1,5"),  # not a thousands separator: a list
        ("50%", r"50\%"),
        ("50 percent", r"50\%"),
        ("1.5e3", "1500"),
        (r"9.8 \times 10^{2}", "980"),
        (r"6.02 \times 10^{23}", "602000000000000000000000"),
        ("2.5e-3", "0.0025"),
        (r"\text{Monday}", "Monday"),
        (r"0.\overline{3}", r"\frac{3}{9}"),
        (r"0.1\overline{6}", r"\frac{15}{90}"),
        (r"\varnothing", r"\emptyset"),
        ("infinity", r"\infty"),
        ("3 and 5", "3, 5"),
        (r"x \in [1, 3]", "[1, 3]"),
        ("\u22127", "-7"),
        ("\u00bd", r"\frac{1}{2}"),
        ("x\u00b2 + 1", "x^{2} + 1"),
        (r"\tan 45^\circ", r"\tan(\frac{45\pi}{180})"),  # degrees inside a trigonometric function: radians
        (r"\pi r^2 h", r"\pi r^2 h"),  # a one-letter unit only after a bare number
        ("12 m", "12"),
        ("all real numbers", r"(-\infty, \infty)"),
        ("3.", "3"),
        ("", None),
    ],
)
def test_normalize_answer(answer, expected):
    assert normalize_answer(answer) == expected


@pytest.mark.parametrize(
    ("answer", "letter"),
    [
        ("B", "B"),
        ("(B)", "B"),
        ("(b)", "B"),
        ("B) 36", "B"),
        ("(D) 12", "D"),
        ("Option B", "B"),
        (r"\textbf{(C)} 12", "C"),
        ("b", None),
        ("12", None),
        ("F", None),
    ],
)
def test_choice_letter(answer, letter):
    assert choice_letter(answer) == letter


@pytest.mark.parametrize(
    ("answer", "words"),
    [("Monday", "monday"), ("No solution", "no solution"), ("(odd)", "odd"), ("ab", None), ("pi", None), ("3", None)],
)
def test_text_answer(answer, words):
    assert text_answer(answer) == words
