import pytest

from operators.math.filter.math_question_check import MathQuestionCheckFilter
from tests.support import frame


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("What is $1 + 2$?", None),
        (r"Compute $\frac{1}{2} + \frac{1}{3}$.", None),
        ("A train travels 60 miles in 1.5 hours. What is its average speed in miles per hour?", None),
        (r"Let $S = \{1, 2, 3\}$. How many subsets does $S$ have?", None),
        (None, "math_question_missing"),
        ("   ", "math_question_missing"),
        ("???!!!...??", "math_question_missing"),
        ("Find x if 2x = 6. The answer is 3.", "math_question_answer_leaked"),
        (r"What is $5 + 3$? \boxed{8}", "math_question_answer_leaked"),
        ("How many primes are below 10?\nAnswer: 4", "math_question_answer_leaked"),
        ("Solve $x^2 = {4", "math_question_truncated"),
        ("What is the value of $3 + 4", "math_question_truncated"),
        ("If $x + 2 = 5$, then x equals", "math_question_truncated"),
        ("Find the area of the", "math_question_truncated"),
        (r"Compute $2 \cdot 3 + $", "math_question_truncated"),
    ],
)
def test_one_question_per_reason(question, reason):
    result = MathQuestionCheckFilter().run(frame([question], column="question"))
    assert (result.rejected["_reject_rule"].to_list() or [None]) == [reason]
