"""Token scores from an OpenAI-compatible server over real HTTP: ``/v1/completions`` with the prompt echoed and its
log-probabilities, the context's tokens left out by their text offsets, cached apart from answers, a server error
recorded on its row after the retries, and a server that returns no log-probabilities stopping the step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from operators.errors import DataflowError
from resources.llm.backends.openai_backend import echoed_logprobs
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMConfigurationError
from tests.resources.llm.fault_server import per_prompt, token_logprob
from tests.resources.llm.test_openai_faults import configure, make_client

QUESTION = "Question: why do tides happen?\n"
ANSWER = "Because the moon pulls the sea."


def completion_requests(server) -> list[dict]:
    return [r.body for r in server.requests if "prompt" in r.body]


def test_the_text_is_scored_after_its_context_and_the_context_left_out(fault_server):
    conditioned, alone = make_client(fault_server.base_url).score_tokens([ANSWER, ANSWER], contexts=[QUESTION, None])
    # The server's tokens are words with the space before them; "\nBecause" spans the boundary and is the text's.
    words = [" the", " moon", " pulls", " the", " sea."]
    assert conditioned.logprobs == pytest.approx([token_logprob(t) for t in ["\nBecause", *words]])
    # Alone, the first token has nothing before it: OpenAI's format gives it no log-probability.
    assert alone.logprobs == pytest.approx([token_logprob(t) for t in words])
    sent = completion_requests(fault_server)
    assert sorted(body["prompt"] for body in sent) == sorted([QUESTION + ANSWER, ANSWER])
    assert all((b["echo"], b["logprobs"], b["max_tokens"], b["model"]) == (True, 0, 1, "test-model") for b in sent)


def test_scores_are_cached_under_their_own_keys(fault_server, tmp_path):
    client = make_client(fault_server.base_url, cache=ResponseCache(tmp_path / "cache.sqlite"))
    first = client.score_tokens([ANSWER, ANSWER], contexts=[QUESTION, None])
    requests = len(fault_server.requests)
    again = client.score_tokens([ANSWER, ANSWER], contexts=[QUESTION, None])
    assert len(fault_server.requests) == requests  # no call
    assert [s.cached for s in again] == [True, True] and [s.logprobs for s in again] == [s.logprobs for s in first]
    assert client.usage().cache_hits == 2

    [answer] = client.generate([ANSWER])  # the same text as a prompt is another request
    assert not answer.cached and answer.text == f"echo: {ANSWER}"
    [other] = client.score_tokens([ANSWER], contexts=["Question: what is bread?\n"])
    assert not other.cached


def test_a_server_error_fails_its_row_after_the_retries(fault_server):
    configure(fault_server, script=per_prompt({"fails": "server_error"}))
    good, bad = make_client(fault_server.base_url, max_retries=2).score_tokens(["works fine", "fails"])
    assert good.ok and good.logprobs == pytest.approx([token_logprob(" fine")])
    assert (bad.error, bad.logprobs) == ("server_error", []) and "HTTP 500" in bad.error_message
    assert [b["prompt"] for b in completion_requests(fault_server)].count("fails") == 3


def test_a_server_without_logprobs_stops_the_step_with_a_clear_error(fault_server):
    configure(fault_server, script=lambda _request: "no_logprobs")
    with pytest.raises(LLMConfigurationError, match="no token log-probabilities") as stopped:
        make_client(fault_server.base_url).score_tokens(["one text", "another text"])
    assert "echo and logprobs" in stopped.value.hint


def test_a_server_without_the_completions_endpoint_is_named_in_the_hint(fault_server):
    configure(fault_server, script=lambda _request: "not_found")
    with pytest.raises(LLMConfigurationError, match="HTTP 404") as stopped:
        make_client(fault_server.base_url).score_tokens(["text"])
    assert "/v1/completions" in stopped.value.hint


def test_texts_that_cannot_be_scored_need_no_call(fault_server):
    empty, missing = make_client(fault_server.base_url).score_tokens(["", None])  # type: ignore[list-item]
    assert (empty.ok, empty.logprobs) == (True, [])
    assert missing.error == "invalid_text" and "text 1" in missing.error_message
    assert fault_server.requests == []
    with pytest.raises(DataflowError, match="2 contexts for 1 texts"):
        make_client(fault_server.base_url).score_tokens(["a"], contexts=["x", "y"])


def test_a_bos_token_echoed_by_the_server_is_not_scored():
    """vLLM's server echoes the BOS token it added (empty text at offset 0, no log-probability) and scores the
    text's first token after it."""
    echoed = SimpleNamespace(
        tokens=["<s>", "Tides", " rise", " end"], token_logprobs=[None, -3.0, -1.0, -0.5], text_offset=[0, 0, 5, 10]
    )
    assert echoed_logprobs(echoed, 0, 10) == (-3.0, -1.0)
    assert echoed_logprobs(echoed, 5, 10) == (-1.0,)  # after a five-character context
