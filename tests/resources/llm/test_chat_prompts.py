"""A prompt may be a list of chat messages (multi-turn input): sent as given by every backend, the system prompt
put first only when the conversation has none, cached under its own key, and a malformed one failing its row
alone."""

from __future__ import annotations

import pytest

from resources.llm.backend import REASK, InvalidPrompt, Request, conversation
from resources.llm.backends.llama_cpp_backend import LlamaCppBackend
from resources.llm.backends.vllm_backend import chat_messages
from resources.llm.cache import ResponseCache, cache_key
from tests.resources.llm.fault_server import per_prompt
from tests.resources.llm.test_openai_faults import SCHEMA, configure, make_client

TURNS = [
    {"role": "user", "content": "Name a colour."},
    {"role": "assistant", "content": "Blue."},
    {"role": "user", "content": "Another one?"},
]
WITH_SYSTEM = [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Name a fruit."}]


def test_messages_are_sent_as_given_with_the_system_prompt_first_unless_they_have_one(fault_server, tmp_path):
    client = make_client(fault_server.base_url, cache=ResponseCache(tmp_path / "cache.sqlite"))
    results = client.generate(["plain", TURNS, WITH_SYSTEM], system="Be brief.")
    assert [r.text for r in results] == ["echo: plain", "echo: Name a colour.", "echo: Name a fruit."]
    sent = {r.prompt: r.messages for r in fault_server.requests}
    system = {"role": "system", "content": "Be brief."}
    assert sent["plain"] == [system, {"role": "user", "content": "plain"}]
    assert sent["Name a colour."] == [system, *TURNS]
    assert sent["Name a fruit."] == WITH_SYSTEM

    again = client.generate([TURNS, TURNS[:1], "Name a colour."], system="Be brief.")
    assert [r.cached for r in again] == [True, False, False]  # a conversation and its first turn differ


def test_a_conversation_is_reasked_after_its_last_turn(fault_server):
    configure(fault_server, script=per_prompt({"Name a colour.": ["invalid_json_answer"]}))
    [result] = make_client(fault_server.base_url).generate([TURNS], json_schema=SCHEMA)
    assert result.parsed == {"echo": "Name a colour."}
    reasked = fault_server.requests[-1].messages
    assert reasked[:3] == TURNS and reasked[3]["role"] == "assistant"
    assert reasked[4]["content"].startswith(REASK.split("{problem}")[0])


@pytest.mark.parametrize(
    "prompt",
    [
        [],
        {"role": "user", "content": "a mapping, not a list"},
        [{"role": "bot", "content": "x"}],
        [{"role": "user", "content": 3}],
        [{"role": "user", "content": "x", "name": "ann"}],
        ["a string in a list"],
        None,
    ],
)
def test_a_malformed_prompt_fails_its_row_alone(fault_server, prompt):
    good, bad = make_client(fault_server.base_url).generate(["fine", prompt])
    assert good.text == "echo: fine"
    assert bad.error == "invalid_prompt" and bad.error_message.startswith("prompt 1: ")
    assert [r.prompt for r in fault_server.requests] == ["fine"]


def test_the_cache_key_tells_a_string_from_its_conversation():
    as_text = Request(conversation("hi"))
    as_messages = Request(conversation([{"role": "user", "content": "hi"}]))
    assert as_text.messages() == as_messages.messages()
    assert cache_key("m", as_text, None) != cache_key("m", as_messages, None)
    as_tuple = Request(conversation(({"content": "hi", "role": "user"},)))  # a tuple, keys in another order
    assert cache_key("m", as_messages, None) == cache_key("m", as_tuple, None)


def test_every_backend_sends_the_conversation():
    request = Request(conversation(TURNS), system="Be brief.")
    expected = [{"role": "system", "content": "Be brief."}, *TURNS]
    llama = LlamaCppBackend(model_path="unused.gguf")  # arguments() loads no model
    assert llama.arguments(request)["messages"] == expected
    assert chat_messages([request]) == [expected]


def test_conversation_refuses_what_it_cannot_send():
    with pytest.raises(InvalidPrompt, match="message 1 needs a role"):
        conversation([TURNS[0], {"role": "tool", "content": "x"}])
