from operators.math.filter.math_answer_repetition import MathAnswerRepetitionFilter
from tests.support import frame

LOOP = "Then we add one to both sides. " * 12
HEALTHY = "Subtract 2 from both sides to get 2x = 8, then divide by 2: x = 4. Check: 2(4) + 2 = 10. So \\boxed{4}."


def test_rejects_a_solution_caught_in_a_loop():
    result = MathAnswerRepetitionFilter(n=5, min_unique_ratio=0.3).run(
        frame([HEALTHY, LOOP, "x = 4"], column="solution")
    )
    assert result.kept["_row_id"].to_list() == ["r0", "r2"]
    assert result.rejected["_reject_rule"].to_list() == ["math_answer_repetitive"]
    scores = result.scores["answer_unique_ngram_ratio"].to_list()
    assert scores[0] == 1.0 and scores[1] < 0.15 and scores[2] == 1.0  # fewer words than n: nothing can repeat
