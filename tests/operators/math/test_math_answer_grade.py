"""math_answer_grade: the reference where there is one, the vote where there is none; how each row was graded."""

import polars as pl

from operators.math.filter.math_answer_grade import MathAnswerGradeFilter


def test_rows_with_a_reference_are_checked_against_it_and_the_others_vote():
    df = pl.DataFrame(
        {
            "_row_id": ["r1", "r2", "v1", "v2", "v3"],
            "_parent_ids": [["q1"], ["q1"], ["q2"], ["q2"], ["q2"]],
            "solution": [r"\boxed{0.5}", r"\boxed{0.3}", r"\boxed{2\sqrt{2}}", r"\boxed{\sqrt{8}}", r"\boxed{3}"],
            "reference": [r"\frac{1}{2}", r"\frac{1}{2}", None, "  ", None],
        }
    )
    result = MathAnswerGradeFilter().run(df)
    kept = result.kept.sort("_row_id")
    assert kept["_row_id"].to_list() == ["r1", "v1", "v2"]
    assert kept["graded_by"].to_list() == ["reference", "vote", "vote"]
    assert kept["target_answer"].to_list() == [r"\frac{1}{2}", r"2\sqrt{2}", r"2\sqrt{2}"]
    assert kept["vote_share"].round(3).to_list() == [None, 0.667, 0.667]
    rejected = dict(zip(result.rejected["_row_id"], result.rejected["_reject_rule"], strict=True))
    assert rejected == {"r2": "math_answer_mismatch", "v3": "math_vote_minority"}
    assert result.scores.sort("_row_id")["math_answer_correct"].to_list() == [1.0, 0.0, 1.0, 1.0, 0.0]
