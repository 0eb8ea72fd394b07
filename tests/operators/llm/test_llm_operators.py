"""LLM operators on a scripted LLM: prompts, parsing, and failures kept aside with their kind (never a None)."""

import json

import polars as pl
import pytest

from operators import (
    AlpagasusJudgeFilter,
    FileSource,
    LLMResult,
    Pipeline,
    PromptedEvaluator,
    PromptedFilter,
    PromptedGenerator,
    PromptedRefiner,
    PromptTemplate,
    SftPairGenerator,
)
from operators.errors import DataflowError, KeyValidationError, OperatorParameterError
from tests.support import ScriptedLLM, as_json, ok

ROWS = pl.DataFrame({"_row_id": ["a", "b", "c"], "text": ["sky is blue", "asdf qwer", "water is wet"]})
RATE = PromptTemplate(name="rate", version="1", template="Rate: {{ text }}", system="You grade text.")


def test_evaluator_scores_rows_and_keeps_failures_aside():
    llm = ScriptedLLM(
        {
            "Rate: sky is blue": as_json({"score": 4, "rationale": "clear"}),
            "Rate: asdf qwer": LLMResult(text=None, error="timeout", error_message="no answer in 30 s"),
            "Rate: water is wet": as_json({"score": 9, "rationale": "too high"}),
        }
    )
    result = PromptedEvaluator(prompt=RATE).run(ROWS, llm=llm)
    assert result.kept.select("_row_id", "llm_score", "llm_rationale").rows() == [("a", 4.0, "clear")]
    rejected = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    assert rejected == {"b": "llm_timeout", "c": "llm_unparseable_answer"}
    detail = result.rejected.filter(pl.col("_row_id") == "c")["_reject_detail"][0]
    assert detail.startswith("score 9.0 outside [1, 5]")
    call = llm.calls[0]
    assert call["system"] == "You grade text." and call["template"] == "rate@1"
    assert call["json_schema"]["required"] == ["score", "rationale"]
    assert ROWS.height == result.kept.height + result.rejected.height


def test_filter_keeps_a_score_range_and_names_the_rule():
    llm = ScriptedLLM(
        {
            "Rate: sky is blue": as_json({"score": 4, "rationale": "ok"}),
            "Rate: asdf qwer": as_json({"score": 1, "rationale": "noise"}),
            "Rate: water is wet": as_json({"score": 3, "rationale": "fine"}),
        }
    )
    result = PromptedFilter(prompt=RATE, keep_min=3).run(ROWS, llm=llm, score_key="quality")
    assert result.kept["_row_id"].to_list() == ["a", "c"]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_score").rows() == [
        ("b", "llm_score_out_of_range", 1.0)
    ]
    assert result.scores["quality"].to_list() == [4.0, 1.0, 3.0]


def test_a_prompt_that_names_no_column_is_asked_once_per_row():
    """Found by the agent's evaluation: such a prompt gave no rows to ask about, and the step failed to assemble."""
    constant = PromptTemplate(name="constant", version="1", template="Is this good code? Rate it.")
    llm = ScriptedLLM({"Is this good code? Rate it.": as_json({"score": 4, "rationale": "fine"})})
    result = PromptedFilter(prompt=constant, keep_min=3).run(ROWS, llm=llm)
    assert result.kept["_row_id"].to_list() == ["a", "b", "c"]
    assert result.kept["llm_score"].to_list() == [4.0, 4.0, 4.0]
    assert len(llm.prompts) == 3


def test_generator_and_refiner_write_text_and_reject_empty_answers():
    template = PromptTemplate(name="ask", version="2", template="Question about: {{ text }}")
    llm = ScriptedLLM(
        {
            "Question about: sky is blue": ok("  Why is the sky blue? "),
            "Question about: asdf qwer": ok("   "),
            "Question about: water is wet": ok("Is water wet?"),
        }
    )
    generated = PromptedGenerator(prompt=template).run(ROWS, llm=llm, output_key="question")
    assert generated.kept.select("_row_id", "question").rows() == [
        ("a", "Why is the sky blue?"),
        ("c", "Is water wet?"),
    ]
    assert generated.rejected["_reject_rule"].to_list() == ["llm_unparseable_answer"]
    refined = PromptedRefiner(prompt=template).run(ROWS, llm=llm)
    assert refined.kept["text"].to_list() == ["Why is the sky blue?", "Is water wet?"]


def test_generator_with_schema_stores_the_json():
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    template = PromptTemplate(name="ask", version="1", template="{{ text }}")
    llm = ScriptedLLM({t: as_json({"q": t.upper()}) for t in ROWS["text"]})
    out = PromptedGenerator(prompt=template, json_schema=schema).run(ROWS, llm=llm).kept
    assert json.loads(out["generated"][0]) == {"q": "SKY IS BLUE"}
    assert llm.calls[0]["json_schema"] == schema


def test_prompt_columns_are_checked_when_the_pipeline_is_traced(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')

    class Asks(Pipeline):
        def __init__(self):
            super().__init__()
            self.raw = FileSource(path=str(tmp_path), columns={"text": "string"})
            self.ask = PromptedGenerator(prompt=PromptTemplate(name="a", version="1", template="{{ body }}"))

        def forward(self):
            return self.ask(self.raw())

    with pytest.raises(KeyValidationError, match="'body' names a column that does not exist"):
        Asks().trace()


def test_template_version_is_part_of_the_code_version():
    first = PromptedGenerator(prompt=PromptTemplate(name="a", version="1", template="{{ text }}"))
    second = PromptedGenerator(prompt=PromptTemplate(name="a", version="2", template="{{ text }}"))
    assert first.fingerprint({}) != second.fingerprint({})


def test_missing_engine_and_bad_ranges_are_clear_errors():
    with pytest.raises(DataflowError, match=r"needs the engine\(s\) \['llm'\]"):
        PromptedRefiner(prompt=RATE).bind({}).run([ROWS])
    with pytest.raises(OperatorParameterError, match="must be below max_score"):
        PromptedEvaluator(prompt=RATE, min_score=5, max_score=1)


def test_sft_pairs_are_new_rows_that_name_their_seed():
    seeds = pl.DataFrame({"_row_id": ["s1", "s2"], "text": ["Tides follow the moon.", "Bread rises."]})
    op = SftPairGenerator()
    answers = {
        op.prompt.render({"text": "Tides follow the moon."}): as_json(
            {"instruction": "Why are there tides?", "response": "Because the moon's gravity pulls the oceans."}
        ),
        op.prompt.render({"text": "Bread rises."}): as_json({"instruction": "Bread?", "response": "Yes."}),
    }
    result = op.run(seeds, llm=ScriptedLLM(answers))
    pair = result.kept.row(0, named=True)
    assert pair["_parent_ids"] == ["s1"] and pair["_row_id"] not in {"s1", "s2"}
    assert pair["instruction"] == "Why are there tides?"
    assert result.rejected.select("_row_id", "_reject_rule").rows() == [("s2", "llm_unparseable_answer")]


def test_alpagasus_judge_keeps_pairs_rated_at_least_4_5():
    op = AlpagasusJudgeFilter()
    pairs = pl.DataFrame(
        {"_row_id": ["p", "q"], "instruction": ["Add 2 and 2.", "Name a colour."], "response": ["4", "Blue."]}
    )
    answers = {
        op.prompt.render(pairs.row(0, named=True)): as_json({"score": 5, "rationale": "correct"}),
        op.prompt.render(pairs.row(1, named=True)): as_json({"score": 4, "rationale": "fine but terse"}),
    }
    result = op.run(pairs, llm=ScriptedLLM(answers))
    assert result.kept["_row_id"].to_list() == ["p"]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_score").rows() == [
        ("q", "llm_score_out_of_range", 4.0)
    ]
