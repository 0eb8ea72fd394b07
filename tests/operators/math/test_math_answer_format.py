from operators.math.filter.math_answer_format import MathAnswerFormatFilter
from tests.support import frame

SOLUTIONS = [r"So the total is \boxed{12}.", "The answer is 12.", "I am not sure how to go on from here.", None]


def test_rejects_solutions_without_a_final_answer():
    result = MathAnswerFormatFilter().run(frame(SOLUTIONS, column="solution"))
    assert result.kept["_row_id"].to_list() == ["r0", "r1"]
    assert result.rejected["_reject_rule"].to_list() == ["math_answer_missing", "math_answer_missing"]


def test_can_require_the_answer_in_a_box():
    result = MathAnswerFormatFilter(require_boxed=True).run(frame(SOLUTIONS, column="solution"))
    assert result.kept["_row_id"].to_list() == ["r0"]
    assert dict(zip(result.rejected["_row_id"], result.rejected["_reject_rule"], strict=True))["r1"] == (
        "math_answer_not_boxed"
    )
