"""The LLM labellers and judges (scripted answers: parsing and control flow; the embedded model runs them in the
reasoning_math pipeline test): difficulty, category, question verification, answer-equivalence judge."""

import pytest

from operators.math.evaluate.math_answer_llm_judge import MathAnswerLlmJudgeEvaluator
from operators.math.evaluate.math_category import MathCategoryEvaluator
from operators.math.evaluate.math_difficulty import MathDifficultyEvaluator
from operators.math.filter.math_question_verify import MathQuestionVerifyFilter
from tests.support import ScriptedLLM, as_json, failed, frame, ok

QUESTIONS = ["What is 2 + 2?", "Prove the Riemann hypothesis.", "How many primes are below 10?"]


def scripted(*answers):
    by_question = dict(zip(QUESTIONS, answers, strict=False))
    return ScriptedLLM(lambda prompt: next(a for q, a in by_question.items() if q in prompt))


def test_difficulty_is_an_integer_from_1_to_10_or_the_row_is_rejected():
    llm = scripted(
        as_json({"difficulty": 1, "rationale": "one step"}), as_json({"difficulty": 11, "rationale": "x"}), ok("hard")
    )
    result = MathDifficultyEvaluator().run(frame(QUESTIONS, column="question"), llm=llm)
    assert result.kept["difficulty"].to_list() == [1]
    assert result.kept["difficulty"].dtype.is_integer()
    assert result.rejected["_reject_rule"].to_list() == ["llm_unparseable_answer", "llm_unparseable_answer"]
    assert llm.calls[0]["json_schema"]["properties"]["difficulty"]["maximum"] == 10
    assert llm.calls[0]["template"] == "math_difficulty@1"


def test_category_must_be_one_of_the_list():
    llm = scripted(
        as_json({"primary": "arithmetic", "secondary": "addition"}),
        as_json({"primary": "Philosophy", "secondary": "proofs"}),
        as_json({"primary": "Number Theory", "secondary": "primes"}),
    )
    result = MathCategoryEvaluator().run(frame(QUESTIONS, column="question"), llm=llm)
    assert result.kept["primary_category"].to_list() == ["Arithmetic", "Number Theory"]
    assert result.kept["secondary_category"].to_list() == ["addition", "primes"]
    assert result.rejected["_reject_rule"].to_list() == ["llm_unparseable_answer"]
    assert "Counting & Probability" in llm.prompts[0]  # the allowed list is in the prompt and in the schema
    assert "Geometry" in llm.calls[0]["json_schema"]["properties"]["primary"]["enum"]


def test_question_verification_keeps_solvable_correct_questions_and_says_why_not():
    llm = scripted(
        as_json({"solvable": True, "correct": True, "reason": "fine"}),
        as_json({"solvable": False, "correct": True, "reason": "open problem"}),
        failed("timeout"),
    )
    result = MathQuestionVerifyFilter().run(frame(QUESTIONS, column="question"), llm=llm)
    assert result.kept["question"].to_list() == ["What is 2 + 2?"]
    assert result.kept["question_solvable"].to_list() == [True]
    rejected = dict(zip(result.rejected["question"], result.rejected["_reject_rule"], strict=True))
    assert rejected == {"Prove the Riemann hypothesis.": "math_question_unsolvable", QUESTIONS[2]: "llm_timeout"}
    assert "open problem" in result.rejected.filter(result.rejected["question"] == QUESTIONS[1])["_reject_detail"][0]


@pytest.mark.parametrize(("verdict", "expected"), [(True, True), (False, False)])
def test_the_llm_judge_is_a_labelled_column_next_to_the_symbolic_verdict(verdict, expected):
    df = frame(["What is half of one?"], column="question", reference=["1/2"], solution=["It is one half."])
    llm = ScriptedLLM(lambda prompt: as_json({"equivalent": verdict, "rationale": "same value"}))
    out = MathAnswerLlmJudgeEvaluator().run(df, llm=llm).kept
    assert out["llm_answer_equivalent"].to_list() == [expected]
    assert "Reference answer: 1/2" in llm.prompts[0] and "It is one half." in llm.prompts[0]
