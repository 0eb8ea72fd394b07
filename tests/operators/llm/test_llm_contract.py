"""What LLM operators can ask for: n samples per prompt, chat messages, JSON answers as typed columns, and rows
generated from a whole dataset or from nothing."""

import json
from typing import Any

import polars as pl
import pytest

from operators import FileSource, Pipeline, PromptTemplate
from operators.errors import OperatorParameterError
from operators.general.generate.prompted_dataset_generator import PromptedDatasetGenerator
from operators.general.generate.prompted_generator import PromptedGenerator
from operators.general.generate.prompted_structured import PromptedStructuredGenerator
from operators.general.generate.prompted_synthesizer import PromptedSynthesizer
from operators.llm.protocol import LLMResult
from operators.text.generate.sft_pair import SftPairGenerator
from tests.support import ScriptedLLM, as_json, failed, frame, ok

ASK = PromptTemplate(name="ask", version="1", template="{{ text }}")
ITEM = {"type": "object", "properties": {"q": {"type": "string"}, "level": {"type": "integer"}}, "required": ["q"]}


class SeedEcho(ScriptedLLM):
    """Answers every prompt with the seed it was asked with, to show that samples are asked apart."""

    def generate(self, prompts, **options: Any) -> list[LLMResult]:
        self.calls.append({"prompts": list(prompts), **options})
        return [
            as_json({"instruction": f"{p} #{options['seed']}", "response": f"answer {options['seed']}"})
            for p in prompts
        ]


def test_n_samples_make_n_rows_per_seed_each_asked_with_its_own_seed():
    llm = SeedEcho({})
    op = SftPairGenerator(n=3, temperature=0.8, seed=10, prompt=ASK)
    result = op.run(frame(["tides", "bread"]), llm=llm)
    kept = result.kept.sort("_sample", "instruction")
    assert kept.height == 6 and [c["seed"] for c in llm.calls] == [10, 11, 12]
    assert kept.filter(pl.col("instruction").str.starts_with("tides"))["_sample"].sort().to_list() == [0, 1, 2]
    assert kept["_row_id"].n_unique() == 6
    assert {tuple(p) for p in kept["_parent_ids"].to_list()} == {("r0",), ("r1",)}
    assert "_sample" in op.output_columns(["_row_id", "text"], op.bind_keys({}))


def test_n_samples_need_a_generator_and_a_temperature():
    with pytest.raises(OperatorParameterError, match="temperature 0"):
        SftPairGenerator(n=2)
    with pytest.raises(OperatorParameterError, match="only generators of new rows"):
        PromptedGenerator(prompt=ASK, n=2, temperature=0.7)


def test_a_prompt_may_be_a_conversation():
    class FollowUp(PromptedGenerator):
        def build_prompt(self, row):
            return [
                {"role": "user", "content": row["text"]},
                {"role": "assistant", "content": "Paris."},
                {"role": "user", "content": "And of Italy?"},
            ]

    llm = ScriptedLLM(lambda prompt: ok("Rome."))
    out = FollowUp(prompt=ASK).run(frame(["Capital of France?"]), llm=llm).kept
    assert out["generated"].to_list() == ["Rome."]
    assert llm.prompts[0][-1] == {"role": "user", "content": "And of Italy?"} and len(llm.prompts[0]) == 3


def test_json_answers_land_as_typed_columns_or_one_struct():
    schema = {
        "type": "object",
        "properties": {
            "topic": {"type": "string"},
            "level": {"type": "integer"},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "meta": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        },
        "required": ["topic"],
    }
    answer = {"topic": "tides", "level": 3, "score": 4, "tags": ["sea"], "meta": {"ok": True}}
    llm = ScriptedLLM(lambda prompt: as_json(answer))
    flat = PromptedStructuredGenerator(prompt=ASK, json_schema=schema).run(frame(["x"]), llm=llm).kept
    assert flat.schema["level"] == pl.Int64 and flat.schema["score"] == pl.Float64
    assert flat.schema["tags"] == pl.List(pl.String) and flat.schema["meta"] == pl.Struct({"ok": pl.Boolean})
    assert flat.select("topic", "level", "score", "tags").row(0) == ("tides", 3, 4.0, ["sea"])
    nested = PromptedStructuredGenerator(prompt=ASK, json_schema=schema, as_struct=True)
    out = nested.run(frame(["x"]), llm=llm, output_key="answer").kept
    assert out["answer"].struct.field("level").to_list() == [3]
    with pytest.raises(OperatorParameterError, match="object schema"):
        PromptedStructuredGenerator(prompt=ASK, json_schema={"type": "string"})


def test_dataset_generator_sees_many_rows_and_names_them_all_as_parents():
    seen = []

    def answer(prompt: str) -> LLMResult:
        seen.append(prompt)
        return as_json({"items": [{"q": "new one", "level": 2}, {"q": "another"}]})

    op = PromptedDatasetGenerator(item_schema=ITEM, count=2, max_rows=2, columns=["text"])
    result = op.run(frame(["alpha", "beta", "gamma"]), llm=ScriptedLLM(answer))
    assert len(seen) == 1 and '{"text": "alpha"}' in seen[0] and "gamma" not in seen[0]
    assert result.kept.select("q", "level").rows() == [("new one", 2), ("another", None)]
    assert result.kept["_parent_ids"].to_list() == [["r0", "r1"], ["r0", "r1"]]
    assert result.rejected.height == 0


def test_synthesizer_needs_no_input_and_keeps_failed_prompts_aside():
    def answer(prompt: str) -> LLMResult:
        if "tides" in prompt:
            return as_json({"items": [{"q": "Why are there tides?"}]})
        return failed("timeout", "no answer in 30 s") if "bread" in prompt else ok("not json")

    op = PromptedSynthesizer(item_schema=ITEM, topics=["tides", "bread", "rocks"], count=1)
    result = op.run(llm=ScriptedLLM(answer))
    assert result.kept.select("topic", "q").rows() == [("tides", "Why are there tides?")]
    assert result.kept["_parent_ids"].to_list() == [[]]
    reasons = dict(zip(result.rejected["prompt"].str.slice(0, 30), result.rejected["_reject_rule"], strict=True))
    assert sorted(reasons.values()) == ["llm_timeout", "llm_unparseable_answer"]


def test_a_generator_from_nothing_is_a_step_without_inputs(tmp_path):
    (tmp_path / "seeds.jsonl").write_text(json.dumps({"text": "hello"}) + "\n")

    class Synth(Pipeline):
        group = "synth"

        def __init__(self):
            super().__init__()
            self.seeds = FileSource(path=str(tmp_path), pattern="*.jsonl", columns={"text": "string"})
            self.topics = PromptedSynthesizer(item_schema=ITEM, topics=["tides"], count=1)
            self.labelled = PromptedGenerator(prompt=PromptTemplate(name="l", version="1", template="{{ q }}"))

        def forward(self):
            self.seeds()
            return self.labelled(self.topics(), output_key="label")

    traced = Synth().trace()
    assert traced.nodes["topics"].inputs == () and not traced.nodes["topics"].is_source
    assert [n.name for n in traced.sources()] == ["seeds"]
    llm = ScriptedLLM(lambda p: as_json({"items": [{"q": "Q1"}]}) if "tides" in p else ok("easy"))
    results = Synth().run({"llm": llm})
    assert results["labelled"].kept.select("q", "label").rows() == [("Q1", "easy")]
    assert results["seeds"].kept["text"].to_list() == ["hello"]
