"""The code domain's LLM operators with a scripted model: prompts, parsing, unusable answers kept aside with their
reason, samples for pass@k, and tests asked only where missing. (The embedded model runs them in the pipeline
test.)"""

import polars as pl
import pytest

from operators.code.evaluate.code_quality_score import CodeQualityScoreEvaluator
from operators.code.generate.code_test_synthesis import CodeTestSynthesisGenerator
from operators.code.generate.code_to_instruction import CodeToInstructionGenerator
from operators.code.generate.instruction_synthesis import InstructionSynthesisGenerator
from operators.code.generate.instruction_to_code import InstructionToCodeGenerator
from operators.code.refine.instruction_enhancement import InstructionEnhancementRefiner
from operators.errors import OperatorParameterError
from tests.support import ScriptedLLM, as_json, failed, frame, ok

ADD = "def add(a, b):\n    return a + b\n"


def by_fragment(answers: dict[str, object]):
    """A script answering by a fragment the prompt contains."""

    def answer(prompt: str):
        for fragment, result in answers.items():
            if fragment in prompt:
                return result
        raise AssertionError(f"no scripted answer for {prompt[:80]!r}")

    return answer


def reasons(result) -> dict[str, str]:
    return dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())


def test_back_translation():
    llm = ScriptedLLM(by_fragment({"a + b": ok("  Write add(a, b) returning the sum of two numbers.  "),
                                   "a * b": ok("Mul."), "a - b": failed("timeout")}))  # fmt: skip
    df = frame(["def add(a, b):\n    return a + b", "def mul(a, b):\n    return a * b", "def sub(a, b): a - b"],
               column="code")  # fmt: skip
    result = CodeToInstructionGenerator().run(df, llm=llm)
    assert result.kept.select("_row_id", "instruction").rows() == [
        ("r0", "Write add(a, b) returning the sum of two numbers.")
    ]
    assert reasons(result) == {"r1": "llm_unparseable_answer", "r2": "llm_timeout"}
    assert "```\ndef add(a, b)" in llm.prompts[0]


def test_code_generation_takes_the_code_block_and_samples_n():
    answer = "Sure!\n```python\ndef add(a, b):\n    return a + b\n```\nDone."
    llm = ScriptedLLM(lambda prompt: ok(answer))
    df = frame(["Add two numbers."], column="instruction")
    result = InstructionToCodeGenerator(n=3, temperature=0.8).run(df, llm=llm)
    assert result.kept["code"].to_list() == ["def add(a, b):\n    return a + b"] * 3
    assert result.kept["_sample"].to_list() == [0, 1, 2]
    assert result.kept["_parent_ids"].to_list() == [["r0"]] * 3
    assert len(set(result.kept["_row_id"])) == 3
    assert [call["seed"] for call in llm.calls] == [0, 1, 2]  # each sample its own seed


def test_code_generation_without_code_is_unusable():
    result = InstructionToCodeGenerator().run(frame(["Task"], column="instruction"), llm=ScriptedLLM(lambda p: ok("")))
    assert reasons(result) == {"r0": "llm_unparseable_answer"} and result.kept.is_empty()


def test_enhancement_keeps_only_well_formed_rewrites():
    good = "Task: add two numbers.\nFunction: add(a, b)\nInput: two ints\nOutput: an int\nExample: add(1, 2) -> 3"
    llm = ScriptedLLM(by_fragment({"sum": ok(good), "product": ok("Multiply them, please.")}))
    df = frame(["sum of a and b", "product of a and b"], column="instruction")
    result = InstructionEnhancementRefiner().run(df, llm=llm)
    assert result.kept.select("_row_id", "instruction").rows() == [("r0", good)]
    assert reasons(result) == {"r1": "llm_unparseable_answer"}


def test_test_synthesis_only_where_missing_and_validated():
    tests = "```python\nassert add(1, 2) == 3\nassert add(0, 0) == 0\n```"
    llm = ScriptedLLM(by_fragment({"a + b": ok(tests), "a * b": ok("```python\nprint(mul(2, 3))\n```")}))
    df = frame(
        [ADD, "def mul(a, b):\n    return a * b\n", ADD],
        column="code",
        instruction=["Add.", "Multiply.", "Add again."],
        tests=[None, None, "assert add(2, 2) == 4"],
    )
    result = CodeTestSynthesisGenerator().run(df, llm=llm)
    assert dict(result.kept.select("_row_id", "tests").iter_rows()) == {
        "r0": "assert add(1, 2) == 3\nassert add(0, 0) == 0",
        "r2": "assert add(2, 2) == 4",  # had tests: kept, not asked
    }
    assert reasons(result) == {"r1": "llm_unparseable_answer"}  # no assert at all
    assert len(llm.prompts) == 2


def test_test_synthesis_for_a_frame_without_a_tests_column():
    llm = ScriptedLLM(lambda prompt: ok("assert add(1, 1) == 2\nassert add(2, 2) == 4"))
    result = CodeTestSynthesisGenerator().run(frame([ADD], column="code", instruction=["Add."]), llm=llm)
    assert result.kept["tests"].to_list() == ["assert add(1, 1) == 2\nassert add(2, 2) == 4"]


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (as_json({"score": 8, "feedback": "Correct and clear."}), (8.0, "Correct and clear.")),
        (as_json({"score": 11, "feedback": "too high"}), "llm_unparseable_answer"),
        (as_json({"score": 7.5, "feedback": "not an integer"}), "llm_unparseable_answer"),
        (as_json({"feedback": "no score"}), "llm_unparseable_answer"),
        (failed("server_error"), "llm_server_error"),
    ],
)
def test_quality_score(answer, outcome):
    llm = ScriptedLLM(lambda prompt: answer)
    result = CodeQualityScoreEvaluator().run(frame([ADD], column="code", instruction=["Add."]), llm=llm)
    if isinstance(outcome, tuple):
        assert result.kept.select("quality_score", "quality_feedback").rows() == [outcome]
    else:
        assert reasons(result) == {"r0": outcome}
    assert llm.calls[0]["json_schema"]["properties"]["score"] == {"type": "integer", "minimum": 1, "maximum": 10}


def test_instruction_synthesis_from_a_pool():
    pool = frame([f"Task number {i}: do something with a list." for i in range(6)], column="instruction")
    items = {"items": [{"instruction": "Write a function that reverses a list in place."},
                       {"instruction": "Write a function that counts the vowels in a string."}]}  # fmt: skip
    llm = ScriptedLLM(lambda prompt: as_json(items))
    synthesis = InstructionSynthesisGenerator(prompts=2, shots=3, count=2)
    result = synthesis.run(pool, llm=llm)
    assert result.kept.height == 4 and set(result.kept["instruction"]) == {i["instruction"] for i in items["items"]}
    parents = result.kept["_parent_ids"].to_list()
    assert all(len(p) == 3 and set(p) <= set(pool["_row_id"]) for p in parents)
    assert all(prompt.count("- Task number") == 3 for prompt in llm.prompts)
    again = InstructionSynthesisGenerator(prompts=2, shots=3, count=2).run(
        pool, llm=ScriptedLLM(lambda p: as_json(items))
    )
    assert again.kept["_parent_ids"].to_list() == parents  # the draw is seeded


def test_n_samples_need_a_temperature():
    with pytest.raises(OperatorParameterError, match="temperature"):
        InstructionToCodeGenerator(n=4)


def test_prompts_read_the_columns_they_name():
    assert CodeQualityScoreEvaluator().reads(CodeQualityScoreEvaluator().bind_keys({})) == ["code", "instruction"]
    empty = pl.DataFrame({"_row_id": [], "instruction": []}, schema={"_row_id": pl.String, "instruction": pl.String})
    assert InstructionSynthesisGenerator().run(empty, llm=ScriptedLLM({})).kept.is_empty()


def test_generated_code_names_its_task_even_when_the_task_was_generated():
    tasks = frame(["Add two numbers.", "Subtract two numbers."], column="instruction",
                  _parent_ids=[["seed-1", "seed-2"], None])  # fmt: skip
    llm = ScriptedLLM(lambda prompt: ok("```python\ndef f():\n    return 1\n```"))
    kept = InstructionToCodeGenerator().run(tasks, llm=llm).kept
    assert kept["_parent_ids"].to_list() == [["r0"], ["r1"]]
