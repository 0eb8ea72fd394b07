from operators.math.refine.math_answer_extract import MathAnswerExtractRefiner
from tests.support import frame


def test_writes_the_final_answer_and_its_normalized_form():
    df = frame(
        [r"Thus $x = \boxed{\dfrac{3}{4}}$.", "The answer is 1,200 dollars.", None, "no math here at all, sorry."],
        column="solution",
    )
    out = MathAnswerExtractRefiner()(df, output_answer_key="answer", output_normalized_key="norm")
    assert out["answer"].to_list() == [r"\dfrac{3}{4}", "1,200 dollars", None, None]
    assert out["norm"].to_list() == [r"\frac{3}{4}", "1200", None, None]
    assert out["_row_id"].to_list() == df["_row_id"].to_list()
