"""math_answer_vote: equivalent answers vote together; ties, minorities, weak majorities and missing answers."""

import polars as pl

from operators.math.filter.math_answer_vote import MathAnswerVoteFilter


def samples(groups: dict[str, list[str | None]]) -> pl.DataFrame:
    rows = [(f"{q}s{i}", [q], text) for q, texts in groups.items() for i, text in enumerate(texts)]
    return pl.DataFrame(
        rows, schema={"_row_id": pl.String, "_parent_ids": pl.List(pl.String), "solution": pl.String}, orient="row"
    )


def reasons(result) -> dict[str, str]:
    return dict(zip(result.rejected["_row_id"], result.rejected["_reject_rule"], strict=True))


def test_equivalent_answers_vote_together_not_identical_strings():
    df = samples({"q": [r"so \boxed{\frac{1}{2}}", "The answer is 0.5.", r"\boxed{1/2}", r"\boxed{3}", r"\boxed{4}"]})
    result = MathAnswerVoteFilter().run(df)
    assert result.kept["_row_id"].to_list() == ["qs0", "qs1", "qs2"]
    assert result.kept["pseudo_answer"].unique().to_list() == [r"\frac{1}{2}"]
    assert result.kept["vote_share"].to_list() == [0.6] * 3
    assert reasons(result) == {"qs3": "math_vote_minority", "qs4": "math_vote_minority"}
    assert result.scores["vote_share"].to_list() == [0.6] * 5


def test_each_question_votes_on_its_own():
    df = samples({"a": [r"\boxed{2}", r"\boxed{2}"], "b": [r"\boxed{x = 7}", "7", r"\boxed{8}"]})
    result = MathAnswerVoteFilter().run(df)
    assert dict(zip(result.kept["_row_id"], result.kept["pseudo_answer"], strict=True)) == {
        "as0": "2",
        "as1": "2",
        "bs0": "x = 7",
        "bs1": "x = 7",
    }


def test_a_tie_has_no_pseudo_answer_and_missing_answers_count_against_the_majority():
    df = samples({"t": [r"\boxed{1}", r"\boxed{2}"], "m": [r"\boxed{5}", "I could not solve it.", "I give up here."]})
    result = MathAnswerVoteFilter(min_share=0.5).run(df)
    assert reasons(result) == {
        "ts0": "math_vote_tie",
        "ts1": "math_vote_tie",
        "ms0": "math_vote_weak",
        "ms1": "math_answer_missing",
        "ms2": "math_answer_missing",
    }
    assert result.rejected.filter(pl.col("_row_id") == "ts0")["pseudo_answer"].to_list() == [None]
    assert result.rejected.filter(pl.col("_row_id") == "ms0")["vote_share"].round(3).to_list() == [0.333]


def test_the_group_key_can_be_any_column():
    df = pl.DataFrame({"_row_id": ["a", "b", "c"], "question_id": [1, 1, 1], "answer": ["12", "12.0", "13"]})
    result = MathAnswerVoteFilter().run(df, input_answer_key="answer", input_group_key="question_id")
    assert result.kept["_row_id"].to_list() == ["a", "b"]


def test_an_interval_and_the_inequality_it_solves_vote_together():
    # math-verify alone accepts "x > 3" against the gold "(3, \infty)" only in one direction; a vote has no gold
    df = samples({"q": [r"\boxed{(3, \infty)}", r"\boxed{x > 3}", r"\boxed{x > 4}"]})
    result = MathAnswerVoteFilter().run(df)
    assert result.kept["_row_id"].to_list() == ["qs0", "qs1"]
