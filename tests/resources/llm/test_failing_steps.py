"""A step whose calls fail stops as soon as its outcome is known, over real HTTP against the fault server: the
error-rate bound once it is certain, the retry budget when every call fails, the circuit breaker when the server
dies; every row's outcome is in the error, and the re-run asks only for what was never answered."""

from __future__ import annotations

import time

import pytest

from operators import progress
from resources.llm.backends.openai_backend import OpenAIBackend
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMClient, LLMErrorRateError, LLMUnavailableError, RetryPolicy
from resources.llm.errors import CANCELLED, NOT_ATTEMPTED
from tests.resources.llm.fault_server import FaultServer, per_prompt
from tests.resources.llm.test_openai_faults import MODEL, SCHEMA, configure

UNFINISHED = {CANCELLED, NOT_ATTEMPTED}


def client_for(base_url: str, *, max_retries: int = 3, budget: int = 10, **options) -> LLMClient:
    backend = OpenAIBackend(model=MODEL, base_url=base_url, api_key="sk-plain", timeout_s=10.0)
    retry = RetryPolicy(max_retries=max_retries, base_delay_s=0.01, budget=budget)
    return LLMClient(backend, retry=retry, **options)


def rows(count: int) -> list[str]:
    return [f"p{i}" for i in range(count)]


def always(fault: str | None):
    return lambda _request: fault


def test_the_step_stops_once_the_error_rate_is_certain_to_exceed_the_bound(fault_server):
    """Every call fails, retries unbudgeted: 13 failed rows of 60 are enough (13 > 0.2 * 60), so about 13 rows'
    attempts are made, not every row's (240 requests before)."""
    configure(fault_server, script=always("server_error"))
    client = client_for(fault_server.base_url, max_retries=3, budget=10_000, max_concurrency=8)
    with pytest.raises(LLMErrorRateError, match=r"13 of 60 calls failed \(server_error: 13\)") as stopped:
        client.generate(rows(60))
    assert 13 * 4 <= len(fault_server.requests) <= (13 + 7) * 4  # the failed rows, and at most 7 more in flight
    results = stopped.value.results
    assert len(results) == 60 and all(r.text is None and r.error for r in results)
    kinds = [r.error for r in results]
    assert 13 <= kinds.count("server_error") <= 20 and set(kinds) - {"server_error"} <= UNFINISHED
    assert kinds.count(NOT_ATTEMPTED) >= 60 - 20
    assert "not_attempted" in str(stopped.value) and "re-run the step" in stopped.value.hint


@pytest.mark.parametrize("count", [60, 600])
def test_with_every_call_failing_the_retry_budget_leaves_one_request_per_row(fault_server, count):
    """With the budget spent, a failed row is not retried: the bound is reached after about 0.2 * rows + budget
    requests whatever ``max_retries`` says."""
    configure(fault_server, script=always("server_error"))
    client = client_for(fault_server.base_url, max_retries=5, budget=10, max_concurrency=8)
    needed = int(0.2 * count) + 1
    started = time.monotonic()
    with pytest.raises(LLMErrorRateError, match=rf"{needed} of {count} calls failed"):
        client.generate(rows(count))
    assert needed <= len(fault_server.requests) <= needed + 10 + 8
    assert time.monotonic() - started < 10


def test_a_server_failing_each_row_once_is_retried_to_the_end(fault_server):
    """The budget earns a retry back with each answer: a flaky server costs retries, never rows."""
    configure(fault_server, script=per_prompt(dict.fromkeys(rows(60), ("server_error",))))
    client = client_for(fault_server.base_url, max_retries=3, budget=10, max_concurrency=8)
    results = client.generate(rows(60))
    assert all(r.ok for r in results) and len(fault_server.requests) == 120
    assert client.usage().retries == 60


def test_calls_in_flight_are_abandoned_when_the_step_stops(fault_server):
    """Four calls hang (the server waits 30 s, the timeout is 10 s); the others fail: the step fails without
    waiting for the hanging ones, and a row it had not started is never sent."""
    hanging = rows(4)
    configure(fault_server, script=lambda r: "slow" if r.prompt in hanging else "server_error", slow_s=30.0)
    client = client_for(fault_server.base_url, max_retries=0, max_concurrency=8)
    started = time.monotonic()
    with pytest.raises(LLMErrorRateError) as stopped:
        client.generate(rows(20))
    assert time.monotonic() - started < 5
    results = stopped.value.results
    assert [r.error for r in results[:4]] == [CANCELLED] * 4
    configure(fault_server, script=always(None))
    assert client.generate(["after"])[0].ok  # the client is still usable
    never_sent = {prompt for prompt, r in zip(rows(20), results, strict=True) if r.error == NOT_ATTEMPTED}
    assert len(never_sent) >= 20 - 4 - 5 - 4 and not never_sent & {r.prompt for r in fault_server.requests}


def test_failed_cached_answers_count_and_can_stop_the_step_before_any_call(fault_server, tmp_path):
    configure(fault_server, script=per_prompt(dict.fromkeys(rows(3), "invalid_json_answer")))
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = client_for(fault_server.base_url, max_error_rate=1.0, json_reasks=0, cache=cache)
    assert sum(r.error == "invalid_json" for r in first.generate(rows(3), json_schema=SCHEMA)) == 3
    sent = len(fault_server.requests)
    client = client_for(fault_server.base_url, max_error_rate=0.2, json_reasks=0, cache=cache)
    with pytest.raises(LLMErrorRateError, match=r"3 of 10 calls failed \(invalid_json: 3\)") as stopped:
        client.generate(rows(10), json_schema=SCHEMA)
    assert len(fault_server.requests) == sent
    assert [r.error for r in stopped.value.results] == ["invalid_json"] * 3 + [NOT_ATTEMPTED] * 7


def test_a_call_with_fewer_rows_than_the_minimum_never_fails_for_its_error_rate(fault_server):
    configure(fault_server, script=always("server_error"))
    client = client_for(fault_server.base_url, max_retries=0, min_rows_for_error_rate=10)
    assert [r.error for r in client.generate(rows(9))] == ["server_error"] * 9


@pytest.mark.parametrize("death", ["die", "drop"])
def test_the_circuit_breaker_stops_a_step_whose_server_died_and_the_rerun_resumes(fault_server, tmp_path, death):
    """After 20 answers the server dies (``die``: nothing listens any more; ``drop``: every connection is closed
    without a reply). ``circuit_breaker`` calls later the step stops (each remaining row was retried before: 240
    calls); the 20 answers are cached, and the re-run against the revived server asks for the 40 others only.
    One call at a time, so that the counts are exact."""
    configure(fault_server, script=lambda r: death if r.number >= 20 else None)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    client = client_for(fault_server.base_url, max_retries=5, max_concurrency=1, circuit_breaker=5, cache=cache)
    with pytest.raises(LLMUnavailableError, match="the server stopped answering: 5 connection failures in a row") as e:
        client.generate(rows(60))
    assert client.usage().calls == 20 + 5
    assert "answered 20" in str(e.value) and "re-run the step once the server is back" in e.value.hint
    kinds = [r.error for r in e.value.results]
    assert kinds == [None] * 20 + [CANCELLED] + [NOT_ATTEMPTED] * 39 and len(cache) == 20

    revived = FaultServer(port=fault_server.port).start() if death == "die" else fault_server
    configure(revived, script=always(None))
    before = len(revived.requests)
    try:
        again = client.generate(rows(60))
    finally:
        if revived is not fault_server:
            revived.stop()
    assert all(r.ok for r in again) and sum(r.cached for r in again) == 20
    assert sorted(r.prompt for r in revived.requests[before:]) == sorted(rows(60)[20:])


def test_progress_advances_as_each_answer_is_final(fault_server, tmp_path, monkeypatch):
    """Cached rows first, then one event per fresh answer, with the errors counted."""
    monkeypatch.setattr(progress, "track", lambda label, total: progress.Tracker(label, total, interval_s=0.0))
    configure(fault_server, script=per_prompt({"p5": "server_error"}))
    cache = ResponseCache(tmp_path / "cache.sqlite")
    client = client_for(fault_server.base_url, max_retries=0, max_concurrency=1, max_error_rate=1.0, cache=cache)
    client.generate(rows(3))
    events: list[progress.ProgressEvent] = []
    with progress.listening(events.append):
        client.generate(rows(8))
    assert {e.label for e in events} == {f"llm {client.model_id}"} and {e.total for e in events} == {8}
    assert [(e.done, e.errors) for e in events] == [(0, 0), (3, 0), (4, 0), (5, 0), (6, 1), (7, 1), (8, 1)]
