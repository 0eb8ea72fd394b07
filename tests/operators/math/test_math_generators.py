"""Question synthesis, fusion and chain-of-thought answers (scripted answers): new rows, their parents, samples."""

import json

import pytest

from operators.math.generate.math_cot_answer import MathCotAnswerGenerator
from operators.math.generate.math_question_fusion import MathQuestionFusionGenerator
from operators.math.generate.math_question_synthesis import MathQuestionSynthesisGenerator
from tests.support import ScriptedLLM, as_json, frame, ok

SEEDS = frame({"s1": "What is 3 + 4?", "s2": "A square has side 5. What is its area?", "s3": None}, column="question")


def test_synthesis_writes_several_problems_per_seed_each_naming_its_seed():
    def answer(prompt):
        seed = "3 + 4" if "3 + 4" in prompt else "side 5"
        return as_json({"items": [{"question": f"Variant {i} of the problem about {seed}?"} for i in range(3)]})

    llm = ScriptedLLM(answer)
    result = MathQuestionSynthesisGenerator(count=3).run(SEEDS, llm=llm)
    assert result.kept.height == 6
    assert result.kept["_parent_ids"].to_list() == [["s1"]] * 3 + [["s2"]] * 3
    assert result.kept["_row_id"].n_unique() == 6
    assert len(llm.prompts) == 2  # the empty seed is not asked about
    assert "Write 3 new" in llm.prompts[0]


def test_synthesis_records_an_unusable_answer_as_a_rejected_row():
    llm = ScriptedLLM(lambda prompt: ok("Here are some problems!"))
    result = MathQuestionSynthesisGenerator().run(SEEDS, llm=llm)
    assert result.kept.height == 0
    assert result.rejected["_reject_rule"].to_list() == ["llm_unparseable_answer"] * 2
    assert result.rejected["_parent_ids"].to_list() == [["s1"], ["s2"]]


def test_fusion_pairs_problems_and_names_both_parents():
    df = frame([f"Problem number {i}: compute {i} + {i}." for i in range(5)], column="question")
    llm = ScriptedLLM(lambda prompt: as_json({"items": [{"question": "A fused problem that needs both results."}]}))
    result = MathQuestionFusionGenerator(strategy="parallel", pair_seed=1).run(df, llm=llm)
    assert result.kept.height == 2  # five problems: two pairs, one left over
    parents = result.kept["_parent_ids"].to_list()
    assert all(len(p) == 2 for p in parents) and len({i for p in parents for i in p}) == 4
    assert "needs both results" in llm.prompts[0]  # the parallel strategy's instruction
    again = MathQuestionFusionGenerator(strategy="parallel", pair_seed=1).run(df, llm=llm)
    assert again.kept["_parent_ids"].to_list() == parents  # pairing is seeded


def test_cot_answers_n_samples_per_question_each_a_row_naming_the_question():
    questions = frame({"q1": "What is 3 + 4?"}, column="question", _parent_ids=[["seed-9"]])
    llm = ScriptedLLM(lambda prompt: ok("3 + 4 = 7, so the answer is \\boxed{7}."))
    result = MathCotAnswerGenerator(n=3, temperature=0.7).run(questions, llm=llm)
    assert result.kept["_sample"].to_list() == [0, 1, 2]
    assert result.kept["_parent_ids"].to_list() == [["q1"]] * 3  # the question, not the question's own seed
    assert [call["seed"] for call in llm.calls] == [0, 1, 2]
    assert all(call["template"] == "math_chain_of_thought@1" for call in llm.calls)
    assert "\\boxed{}" in json.dumps(llm.prompts[0])


def test_samples_need_a_temperature():
    with pytest.raises(ValueError, match="temperature"):
        MathCotAnswerGenerator(n=4)
