"""math_answer_ground_truth: one row per reject reason, the detail, the timeout, and agreement with labelled pairs."""

import json
from pathlib import Path

import polars as pl
import pytest

from operators.math.checking import CheckSettings, check_pool
from operators.math.filter.math_answer_ground_truth import MathAnswerGroundTruthFilter
from tests.support import frame

PAIRS = Path(__file__).parent / "data" / "answer_pairs.jsonl"
TOWER = r"\boxed{9^{9^{9^{9^{9}}}}}"  # sympy evaluates the integer power and never returns


def labelled_pairs() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text().splitlines()]


def judge(answers, references, **params):
    df = frame(answers, column="solution", answer=references)
    return MathAnswerGroundTruthFilter(**params).run(df, input_answer_key="solution", input_reference_key="answer")


def test_keeps_equivalent_answers_and_rejects_each_failure_with_its_reason():
    result = judge(
        [r"so $\boxed{\dfrac{1}{2}}$", r"\boxed{0.33}", "I could not solve it.", "7", "7", "7"],
        ["0.5", r"\frac{1}{3}", "5", None, "The proof is left to the reader.", r"\frac{1}{2"],
    )
    assert result.kept["_row_id"].to_list() == ["r0"]
    reasons = dict(zip(result.rejected["_row_id"], result.rejected["_reject_rule"], strict=True))
    assert reasons == {
        "r1": "math_answer_mismatch",
        "r2": "math_answer_missing",
        "r3": "math_reference_missing",
        "r4": "math_reference_unparseable",
        "r5": "math_reference_unparseable",
    }
    assert result.scores["math_answer_correct"].to_list() == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_the_detail_holds_both_extracted_answers():
    result = judge([r"Thus the answer is $\boxed{0.33}$."], [r"Since $3x = 1$, $x = \boxed{\frac{1}{3}}$."])
    detail = json.loads(result.rejected["_reject_detail"][0])
    assert detail["answer"] == "0.33"
    assert detail["reference"] == r"\frac{1}{3}"
    assert detail["answer_normalized"] == "0.33"


def test_an_answer_sympy_cannot_read_is_rejected_as_unparseable():
    result = judge([r"\boxed{\frac{1}{}}"], ["2"])
    assert result.rejected["_reject_rule"].to_list() == ["math_answer_unparseable"]


def test_a_check_that_hangs_times_out_and_the_pool_recovers():
    params = {"timeout_s": 3.0, "workers": 1}  # generous for the normal checks on a loaded machine
    result = judge([TOWER, r"\boxed{\sqrt{8}}", r"\boxed{x^2 - 1}"], ["1", r"2\sqrt{2}", "(x-1)(x+1)"], **params)
    assert result.rejected["_reject_rule"].to_list() == ["math_check_timeout"]
    assert "within" in json.loads(result.rejected["_reject_detail"][0])["note"]
    assert result.kept["_row_id"].to_list() == ["r1", "r2"]  # decided by the worker that replaced the stuck one
    pool = check_pool(CheckSettings(**params))
    assert pool.replaced >= 1
    assert judge([r"\boxed{\sqrt{8}}"], [r"2\sqrt{2}"], **params).kept.height == 1


def test_the_timeout_is_a_parameter_with_bounds():
    with pytest.raises(ValueError, match="timeout_s"):
        MathAnswerGroundTruthFilter(timeout_s=0)


def agreement(rows: list[dict]) -> tuple[float, list[str]]:
    df = pl.DataFrame(
        {
            "_row_id": [row["id"] for row in rows],
            "solution": [row["answer"] for row in rows],
            "answer": [row["reference"] for row in rows],
        }
    )
    kept = set(
        MathAnswerGroundTruthFilter().run(df, input_answer_key="solution", input_reference_key="answer").kept["_row_id"]
    )
    wrong = [
        f"{row['id']}: {row['answer']!r} vs {row['reference']!r}"
        for row in rows
        if (row["id"] in kept) != row["equivalent"]
    ]
    return 1 - len(wrong) / len(rows), wrong


def test_agrees_with_a_sample_of_the_labelled_pairs():
    rows = labelled_pairs()[::7]
    score, wrong = agreement(rows)
    assert score == 1.0, wrong


@pytest.mark.slow
def test_agrees_with_every_labelled_pair():
    rows = labelled_pairs()
    assert len(rows) >= 300
    score, wrong = agreement(rows)
    assert score >= 0.99, wrong
