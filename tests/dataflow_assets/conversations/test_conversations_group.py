"""The ``conversations`` group through Dagster on the bundled seeds with a scripted LLM: dialogues judged and
written as ShareGPT, tool-use trajectories whose bad calls are kept aside with the schema problem."""

import json

import polars as pl

from dataflow_assets.conversations.dialogues import ConversationsPipeline
from dataflow_assets.runner import materialize_pipeline
from resources.delta_store import DeltaStore
from tests.support import ScriptedLLM, as_json

TOOL = {
    "name": "search_recipes",
    "description": "Find recipes",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
}


def scripted(prompt: str):
    if prompt.startswith("Write a conversation"):
        exchanges = 1 if "marathon" in prompt else 3  # one dialogue too short: rejected
        topic = prompt.split("about: ")[1].splitlines()[0]
        turns = [{"role": r, "content": f"{r} on {topic}"} for _ in range(exchanges) for r in ("user", "assistant")]
        return as_json({"turns": turns})
    if prompt.startswith("Conversation:"):
        return as_json({"score": 2 if "rent" in prompt else 5, "rationale": "judged"})
    if prompt.startswith("Scenario:"):
        return as_json({"task": "Find a cheap dinner: " + prompt.splitlines()[0], "tools": [TOOL]})
    query = 7 if "runner" in prompt else "lentils"  # one trajectory's call breaks the schema
    return as_json(
        {
            "messages": [
                {"role": "user", "content": "Find me a recipe"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"name": "search_recipes", "arguments": {"query": query}}],
                },
                {"role": "tool", "name": "search_recipes", "content": '["dal"]'},
                {"role": "assistant", "content": "Try dal."},
            ]
        }
    )


def test_conversations_group_on_the_bundled_seeds(tmp_path, instance):
    materialize_pipeline(
        ConversationsPipeline(), root=tmp_path / "delta", instance=instance, resources={"llm": ScriptedLLM(scripted)}
    )
    store = DeltaStore(tmp_path / "delta")
    read = lambda step, side=None: pl.read_delta(store.uri(["conversations", step], side))  # noqa: E731
    seeds = read("seeds")
    assert read("dialogues").height == seeds.height - 1
    assert read("dialogues", "rejected")["_reject_detail"][0].startswith("1 exchanges, expected 2 to 3")
    shared = read("sharegpt")
    assert shared.height == seeds.height - 2  # the renting dialogue judged 2 of 5
    assert [t["from"] for t in shared["conversation"][0]] == ["human", "gpt"] * 3
    tools = read("tool_sharegpt")
    assert tools.height == seeds.height - 1
    assert [t["from"] for t in tools["conversation"][0]] == ["human", "function_call", "observation", "gpt"]
    assert json.loads(tools["conversation"][0][1]["value"]) == {
        "name": "search_recipes",
        "arguments": {"query": "lentils"},
    }
    bad = read("trajectories", "rejected")
    assert bad.select("_reject_rule", "_reject_detail").rows() == [
        ("invalid_tool_call", "call to search_recipes: 7 is not of type 'string' at query")
    ]
