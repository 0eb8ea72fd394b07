"""Dialogue and tool-use synthesis (scripted answers: structure and checks), tool-schema validation with the real
jsonschema, and the OpenAI/ShareGPT conversions."""

import json

import polars as pl
import pytest

from operators.conversations.generate.dialogue_synthesizer import DialogueSynthesizer
from operators.conversations.generate.tool_task_synthesizer import ToolTaskSynthesizer
from operators.conversations.generate.tool_trajectory_synthesizer import ToolTrajectorySynthesizer
from operators.conversations.messages import MESSAGES, message
from operators.conversations.refine.chat_format import ChatFormatRefiner
from operators.conversations.templates import DIALOGUE_CONSISTENCY, TOOL_TASK_FEASIBILITY
from operators.conversations.tools import call_problems, tool_problems
from operators.general.evaluate.prompted_evaluator import PromptedEvaluator
from operators.general.filter.prompted_filter import PromptedFilter
from tests.support import ScriptedLLM, as_json, frame

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city on a date",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "date": {"type": "string", "format": "date"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


def turns(*roles: str) -> dict:
    return {"turns": [{"role": role, "content": f"{role} {i}"} for i, role in enumerate(roles)]}


def test_dialogues_must_alternate_and_fit_the_turn_range():
    answers = {
        "good": turns("user", "assistant", "user", "assistant"),
        "starts_with_assistant": turns("assistant", "user", "assistant", "user"),
        "ends_with_user": turns("user", "assistant", "user"),
        "too_short": turns("user", "assistant"),
    }
    llm = ScriptedLLM(lambda prompt: as_json(answers[prompt.split("about: ")[1].splitlines()[0]]))
    op = DialogueSynthesizer(turns=3, min_turns=2, system="Be brief.")
    result = op.run(frame(list(answers), column="topic"), llm=llm)
    kept = result.kept
    assert kept.schema["messages"] == MESSAGES and kept["_parent_ids"].to_list() == [["r0"]]
    assert [m["role"] for m in kept["messages"][0]] == ["system", "user", "assistant", "user", "assistant"]
    reasons = dict(zip(result.rejected["topic"], result.rejected["_reject_detail"], strict=True))
    assert set(reasons) == {"starts_with_assistant", "ends_with_user", "too_short"}
    assert "1 exchanges, expected 2 to 3" in reasons["too_short"]
    assert "Write a conversation of 3 exchanges about: good" in llm.prompts[0]


def test_tool_definitions_and_calls_are_checked_against_json_schema():
    assert tool_problems([WEATHER]) == []
    broken = {**WEATHER, "name": "get weather", "parameters": {"type": "object", "properties": {"x": {"type": 5}}}}
    assert tool_problems([broken, WEATHER, WEATHER]) == [
        "tool 0: name 'get weather' is not an identifier",
        "tool get_weather: defined twice",
    ]
    assert "invalid parameters schema" in tool_problems([{**WEATHER, "parameters": broken["parameters"]}])[0]
    assert call_problems({"name": "get_weather", "arguments": {"city": "Oslo"}}, [WEATHER]) == []
    assert call_problems({"name": "get_weather", "arguments": {"town": "Oslo"}}, [WEATHER]) == [
        "call to get_weather: 'city' is a required property",
        "call to get_weather: Additional properties are not allowed ('town' was unexpected)",
    ]
    assert call_problems({"name": "book", "arguments": {}}, [WEATHER])[0].startswith("call to undefined tool 'book'")


def test_tool_tasks_keep_valid_tools_as_json():
    good = {"task": "Is it raining in Oslo tomorrow?", "tools": [WEATHER]}
    bad = {"task": "x", "tools": [{**WEATHER, "parameters": {"type": "array"}}]}
    llm = ScriptedLLM(lambda prompt: as_json(good if "travel" in prompt else bad))
    result = ToolTaskSynthesizer(kind="single").run(frame(["travel", "cooking"], column="scenario"), llm=llm)
    assert json.loads(result.kept["tools"][0]) == [WEATHER] and result.kept["task"][0] == good["task"]
    assert "parameters must be an object schema" in result.rejected["_reject_detail"][0]
    assert "exactly one tool call" in llm.prompts[0]


def trajectory(arguments: dict, name: str = "get_weather") -> dict:
    return {
        "messages": [
            {"role": "user", "content": "Rain in Oslo?"},
            {"role": "assistant", "content": "", "tool_calls": [{"name": name, "arguments": arguments}]},
            {"role": "tool", "name": name, "content": '{"rain": true}'},
            {"role": "assistant", "content": "Yes, take an umbrella."},
        ]
    }


def test_trajectories_with_invalid_calls_are_rejected_with_the_schema_problems():
    answers = {
        "valid": trajectory({"city": "Oslo", "date": "2025-01-02"}),
        "bad_arguments": trajectory({"city": 7}),
        "bad_shape": {"messages": trajectory({"city": "Oslo"})["messages"][:3]},
    }
    llm = ScriptedLLM(lambda prompt: as_json(answers[prompt.split("User's task: ")[1].splitlines()[0]]))
    df = frame(list(answers), column="task", tools=[json.dumps([WEATHER])] * 3)
    result = ToolTrajectorySynthesizer().run(df, llm=llm)
    kept = result.kept
    assert kept["task"].to_list() == ["valid"] and kept["tool_calls"].to_list() == [1]
    calls = kept["messages"][0][1]
    assert calls["content"] is None and json.loads(calls["tool_calls"])[0]["arguments"]["city"] == "Oslo"
    assert kept["messages"][0][2]["name"] == "get_weather"
    rejected = dict(zip(result.rejected["task"], result.rejected["_reject_rule"], strict=True))
    assert rejected == {"bad_arguments": "invalid_tool_call", "bad_shape": "llm_unparseable_answer"}
    detail = result.rejected.filter(pl.col("task") == "bad_arguments")["_reject_detail"][0]
    assert detail == "call to get_weather: 7 is not of type 'string' at city"


def conversation() -> list[dict]:
    return [
        message("system", "Be brief."),
        message("user", "Rain in Oslo?"),
        message("assistant", None, json.dumps([{"name": "get_weather", "arguments": {"city": "Oslo"}}])),
        message("tool", '{"rain": true}', name="get_weather"),
        message("assistant", "Yes."),
    ]


def test_openai_messages_to_sharegpt_and_back():
    df = pl.DataFrame(
        {"_row_id": ["a", "b"], "messages": [conversation(), None]}, schema_overrides={"messages": MESSAGES}
    )
    sharegpt = ChatFormatRefiner(target="sharegpt").run(df).kept["conversation"]
    assert [turn["from"] for turn in sharegpt[0]] == ["system", "human", "function_call", "observation", "gpt"]
    assert sharegpt[1] is None
    back = ChatFormatRefiner(source="sharegpt", target="openai").run(
        df.with_columns(sharegpt.alias("messages")).drop_nulls("messages")
    )
    assert back.kept["conversation"].to_list()[0] == [{**m, "name": None} for m in conversation()]


def test_pairs_become_messages_and_json_lines():
    df = frame(["What is 2+2?"], column="instruction", response=["4"])
    op = ChatFormatRefiner(source="pair", target="openai", system="You are a tutor.", as_json=True)
    written = op.run(df, input_key="instruction").kept["conversation"][0]
    assert json.loads(written) == [
        message("system", "You are a tutor."),
        message("user", "What is 2+2?"),
        message("assistant", "4"),
    ]
    assert op.reads(op.bind_keys({"input_key": "instruction"})) == ["instruction", "response"]
    assert ChatFormatRefiner().reads(ChatFormatRefiner().bind_keys({})) == ["messages"]


def test_dialogue_judges_render_the_conversation():
    df = pl.DataFrame({"_row_id": ["a"], "messages": [conversation()]}, schema_overrides={"messages": MESSAGES})
    llm = ScriptedLLM(lambda prompt: as_json({"score": 4, "rationale": "consistent"}))
    scored = PromptedEvaluator(prompt=DIALOGUE_CONSISTENCY).run(df, llm=llm).kept
    assert scored["llm_score"].to_list() == [4.0]
    assert 'tool (get_weather): {"rain": true}' in llm.prompts[0] and "[calls [{" in llm.prompts[0]
    assert llm.prompts[0].startswith("Conversation:\nsystem: Be brief.\nuser: Rain in Oslo?")


@pytest.mark.parametrize("turns_asked", [0, 21])
def test_turns_are_bounded(turns_asked):
    with pytest.raises(Exception, match="turns"):
        DialogueSynthesizer(turns=turns_asked)


def test_task_feasibility_judge_filters_tool_tasks():
    df = frame(["Rain in Oslo?", "Book a flight"], column="task", tools=[json.dumps([WEATHER])] * 2)
    llm = ScriptedLLM(lambda prompt: as_json({"score": 5 if "Rain" in prompt else 1, "rationale": "r"}))
    result = PromptedFilter(prompt=TOOL_TASK_FEASIBILITY, keep_min=4).run(df, llm=llm)
    assert result.kept["task"].to_list() == ["Rain in Oslo?"] and '"get_weather"' in llm.prompts[0]
