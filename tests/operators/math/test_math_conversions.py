"""math_to_pretrain_text and math_to_chat: the training formats."""

from operators.math.refine.math_to_chat import MathToChatRefiner
from operators.math.refine.math_to_pretrain_text import MathToPretrainTextRefiner
from tests.support import frame

DF = frame(["What is $1+1$? ", None], column="question", solution=[r"$1+1=\boxed{2}$", "x"])


def test_pretrain_text_joins_question_and_solution_under_headings():
    out = MathToPretrainTextRefiner()(DF)
    assert out["text"].to_list() == ["Problem: What is $1+1$?\n\nSolution: $1+1=\\boxed{2}$", None]
    bare = MathToPretrainTextRefiner(problem_heading="", solution_heading="")(DF, output_text_key="doc")
    assert bare["doc"][0] == "What is $1+1$?\n\n$1+1=\\boxed{2}$"


def test_chat_format_is_a_list_of_role_content_messages():
    out = MathToChatRefiner(system="You solve math problems.", instruction="Put the final answer in \\boxed{}.")(DF)
    assert out["messages"].to_list() == [
        [
            {"role": "system", "content": "You solve math problems."},
            {"role": "user", "content": "What is $1+1$?\n\nPut the final answer in \\boxed{}."},
            {"role": "assistant", "content": r"$1+1=\boxed{2}$"},
        ],
        None,
    ]
    assert [m["role"] for m in MathToChatRefiner()(DF)["messages"][0]] == ["user", "assistant"]
