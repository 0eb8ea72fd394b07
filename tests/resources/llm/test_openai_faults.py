"""The OpenAI backend through the real ``openai`` client over real HTTP, against a server that injects faults:
retries, per-row errors, configuration errors, JSON re-asks, error rates, concurrency, limits, the cache, and an
API key that is used but never shown."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, Pipeline, PromptedGenerator, PromptTemplate
from resources.llm.backend import REASK
from resources.llm.backends.openai_backend import OpenAIBackend
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMClient, LLMConfigurationError, LLMErrorRateError, RetryPolicy
from resources.llm.limits import RateLimiter
from resources.llm.resource import LLMResource
from tests.resources.llm.fault_server import FaultServer, free_port, per_prompt, queue

MODEL = "test-model"
SCHEMA = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}
TIMEOUT_S = 10.0
"""The clients' timeout: no answer of the server takes this long, however loaded the machine."""
SHORT_TIMEOUT_S = 1.0
"""The timeout where the ``slow`` fault (which waits 5 s) must time out."""
INVALID_ANSWER = "Sure! Here is the JSON you asked for: {echo: oops"
RETRYABLE = [  # (fault, error kind once retries are exhausted, server settings)
    pytest.param("rate_limit", "rate_limited", {}, id="rate_limit"),
    pytest.param("server_error", "server_error", {}, id="server_error"),
    pytest.param("slow", "timeout", {}, id="slow"),
    pytest.param("drop", "connection_dropped", {}, id="drop"),
    pytest.param("malformed", "bad_response", {}, id="malformed-json-type"),
    pytest.param("malformed", "bad_response", {"malformed_content_type": "text/html"}, id="malformed-html"),
]


def make_client(base_url: str, *, max_retries: int = 2, timeout_s: float = TIMEOUT_S, **options) -> LLMClient:
    """A client on the OpenAI backend with tiny backoff delays; ``options`` go to ``LLMClient``."""
    backend = OpenAIBackend(model=MODEL, base_url=base_url, api_key="sk-plain", timeout_s=timeout_s)
    options.setdefault("max_error_rate", 1.0)
    return LLMClient(backend, retry=RetryPolicy(max_retries=max_retries, base_delay_s=0.01), **options)


def configure(server: FaultServer, **settings) -> None:
    """Set server settings; a 429's Retry-After is 0 unless given."""
    for name, value in {"retry_after": "0", **settings}.items():
        setattr(server, name, value)


def timeout_for(fault: str) -> float:
    return SHORT_TIMEOUT_S if fault == "slow" else TIMEOUT_S


def prompts_of(server: FaultServer) -> list[str]:
    return [r.prompt for r in server.requests]


def test_the_backend_imports_on_its_own():
    """The backend module imports in a fresh interpreter, whichever HTTP library the openai client is built on."""
    probe = subprocess.run(
        [sys.executable, "-c", "import resources.llm.backends.openai_backend"], capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr


@pytest.mark.parametrize(("fault", "kind", "settings"), RETRYABLE)
def test_a_retryable_fault_is_retried_then_succeeds(fault_server, fault, kind, settings):
    configure(fault_server, script=queue(fault), **settings)
    client = make_client(fault_server.base_url, timeout_s=timeout_for(fault))
    [result] = client.generate(["hello"])
    assert result.ok and result.text == "echo: hello"
    assert fault_server.faults()[fault] == 1
    usage, requests = client.usage(), len(fault_server.requests)  # 2, unless a loaded machine timed out one more
    assert (usage.calls, usage.retries, dict(usage.errors)) == (requests, requests - 1, {})


def test_retry_after_is_honoured(fault_server):
    configure(fault_server, script=queue("rate_limit", "rate_limit"), retry_after="1")
    client = make_client(fault_server.base_url)
    [result] = client.generate(["hello"])
    assert result.ok
    arrivals = [r.arrived for r in fault_server.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(gaps) == 2 and all(0.99 <= gap < 5 for gap in gaps), gaps  # the backoff alone is 0.01 s
    assert client.usage().retries == 2


@pytest.mark.parametrize(("fault", "kind", "settings"), RETRYABLE)
def test_exhausted_retries_become_that_rows_error(fault_server, fault, kind, settings):
    configure(fault_server, script=per_prompt({"bad": fault}), **settings)
    client = make_client(fault_server.base_url, max_retries=1, timeout_s=timeout_for(fault))
    results = client.generate(["a", "bad", "c"])
    assert [r.text for r in results] == ["echo: a", None, "echo: c"]
    failed = results[1]
    assert failed.error == kind and isinstance(failed.error_message, str) and failed.error_message
    assert len(results) == sum(r.ok for r in results) + sum(not r.ok for r in results) == 3
    assert prompts_of(fault_server).count("bad") == 2
    usage = client.usage()
    assert (usage.retries, dict(usage.errors)) == (len(fault_server.requests) - 3, {kind: 1})


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("unauthorized", r"HTTP 401 .*the key in the api_key argument was refused"),
        ("not_found", r"HTTP 404 for model 'test-model'"),
    ],
)
def test_a_configuration_error_fails_at_once(fault_server, fault, message):
    configure(fault_server, script=lambda _request: fault)
    client = make_client(fault_server.base_url, max_retries=5, max_concurrency=2)
    with pytest.raises(LLMConfigurationError, match=message):
        client.generate([f"p{i}" for i in range(20)])
    asked = prompts_of(fault_server)
    assert 1 <= len(asked) == len(set(asked)) <= 10  # no retries, and no more rows once the first one failed
    assert client.usage().retries == 0


def test_nothing_listening_fails_at_once():
    client = make_client(f"http://127.0.0.1:{free_port()}/v1", max_retries=5, max_concurrency=2)
    started = time.monotonic()
    with pytest.raises(LLMConfigurationError, match=r"nothing answers at http://127\.0\.0\.1"):
        client.generate([f"p{i}" for i in range(20)])
    assert time.monotonic() - started < 5
    assert client.usage().retries == 0 and client.usage().calls <= 10


def test_invalid_json_is_reasked_then_recorded_and_cached(fault_server, tmp_path):
    configure(fault_server, script=per_prompt({"bad": "invalid_json_answer", "fixed": ["invalid_json_answer"]}))
    client = make_client(fault_server.base_url, json_reasks=2, cache=ResponseCache(tmp_path / "cache.sqlite"))
    good, fixed, bad = client.generate(["good", "fixed", "bad"], json_schema=SCHEMA)
    assert good.parsed == {"echo": "good"} and fixed.parsed == {"echo": "fixed"}
    assert (bad.error, bad.text, bad.parsed) == ("invalid_json", INVALID_ANSWER, None)
    assert "not JSON" in bad.error_message
    asked = [r for r in fault_server.requests if r.prompt == "bad"]
    assert len(asked) == 3 and all(r.body["response_format"]["type"] == "json_schema" for r in asked)
    correction = REASK.split("{problem}")[0]
    for reasks, request in enumerate(asked):
        earlier = request.messages[1:]
        assert len(earlier) == 2 * reasks
        assert [m["content"] for m in earlier[0::2]] == [INVALID_ANSWER] * reasks
        assert all(m["role"] == "user" and m["content"].startswith(correction) for m in earlier[1::2])
    assert client.usage().reasks == 3 and client.usage().errors == {"invalid_json": 1}

    before = len(fault_server.requests)
    again = client.generate(["good", "fixed", "bad"], json_schema=SCHEMA)
    assert len(fault_server.requests) == before and all(r.cached for r in again)
    assert [(r.error, r.text) for r in again] == [(r.error, r.text) for r in (good, fixed, bad)]


@pytest.mark.parametrize(("failing", "raises"), [(3, True), (2, False)])
def test_an_error_rate_above_the_limit_fails_the_call(fault_server, failing, raises):
    prompts = [f"p{i}" for i in range(10)]
    configure(fault_server, script=per_prompt(dict.fromkeys(prompts[:failing], "server_error")))
    client = make_client(fault_server.base_url, max_retries=0, max_error_rate=0.2)
    if raises:
        with pytest.raises(LLMErrorRateError, match=r"3 of 10 calls failed \(server_error: 3\).*max_error_rate=0.2"):
            client.generate(prompts)
    else:
        assert sum(not r.ok for r in client.generate(prompts)) == failing


def test_concurrency_is_capped(fault_server):
    configure(fault_server, latency_s=0.2)
    client = make_client(fault_server.base_url, max_concurrency=4)
    assert all(r.ok for r in client.generate([f"p{i}" for i in range(12)]))
    assert 2 <= fault_server.max_in_flight <= 4  # 4 unless the machine is very loaded


def test_requests_per_minute_spaces_requests(fault_server):
    """At 600/min requests are 0.1 s apart, allowing at most one second's worth (10) in a burst."""
    client = make_client(fault_server.base_url, max_concurrency=4, limiter=RateLimiter(requests_per_minute=600))
    assert all(r.ok for r in client.generate([f"p{i}" for i in range(20)]))
    arrivals = [r.arrived for r in fault_server.requests]
    assert max(arrivals) - min(arrivals) >= (20 - 10 - 1) * 0.1 * 0.8


def test_the_cache_answers_repeated_calls_and_misses_only_changed_ones(fault_server, tmp_path):
    client = make_client(fault_server.base_url, cache=ResponseCache(tmp_path / "cache.sqlite"))

    def new_requests(prompts: list[str], template: str) -> list[str]:
        before = len(fault_server.requests)
        results = client.generate(prompts, template=template)
        assert [r.text for r in results] == [f"echo: {p}" for p in prompts]
        return [r.prompt for r in fault_server.requests[before:]]

    assert sorted(new_requests(["a", "b", "c"], "ask@1")) == ["a", "b", "c"]
    assert new_requests(["a", "b", "c"], "ask@1") == []
    assert new_requests(["a", "b", "changed"], "ask@1") == ["changed"]
    assert sorted(new_requests(["a", "b"], "ask@2")) == ["a", "b"]
    assert client.usage().cache_hits == 3 + 2


def test_failed_answers_are_not_cached(fault_server, tmp_path):
    configure(fault_server, script=per_prompt({"b": ["server_error"]}))
    client = make_client(fault_server.base_url, max_retries=0, cache=ResponseCache(tmp_path / "cache.sqlite"))
    assert [r.error for r in client.generate(["a", "b"])] == [None, "server_error"]
    second = client.generate(["a", "b"])
    assert [(r.text, r.cached) for r in second] == [("echo: a", True), ("echo: b", False)]
    assert prompts_of(fault_server).count("a") == 1 and prompts_of(fault_server).count("b") == 2


# The API key: sent to the server, shown nowhere else.


@pytest.fixture
def secret(monkeypatch) -> tuple[str, str]:
    """(name of an environment variable, the unique API key it holds)."""
    name, key = f"DATAFLOW_TEST_KEY_{uuid.uuid4().hex[:8].upper()}", f"sk-test-{uuid.uuid4()}"
    monkeypatch.setenv(name, key)
    return name, key


@pytest.fixture
def debug_logs(caplog) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG, the ``openai`` client's and its HTTP layer's included."""
    for logger in (None, "openai", "dagster"):
        caplog.set_level(logging.DEBUG, logger=logger)
    return caplog


def llm_resource(base_url: str, api_key_env: str, cache_path: Path, **options) -> LLMResource:
    options = {"max_retries": 1, "retry_base_delay_s": 0.01, "timeout_s": TIMEOUT_S, "max_error_rate": 1.0, **options}
    return LLMResource(
        backend="openai", model=MODEL, base_url=base_url, api_key_env=api_key_env, cache_path=str(cache_path), **options
    )


def assert_key_absent(key: str, **places: object) -> None:
    for place, value in places.items():
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        assert key not in text, f"the API key appears in {place}"


def files_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def assert_key_was_sent(server: FaultServer, key: str) -> None:
    assert server.requests and {r.headers["authorization"] for r in server.requests} == {f"Bearer {key}"}


def test_the_api_key_is_used_but_never_shown(fault_server, secret, tmp_path, debug_logs):
    env, key = secret
    faults = {"limited": "rate_limit", "broken": "server_error", "dropped": "drop", "late": "slow"}
    configure(fault_server, script=per_prompt(faults), echo_key=True)
    resource = llm_resource(fault_server.base_url, env, tmp_path / "cache" / "llm.sqlite", timeout_s=SHORT_TIMEOUT_S)
    results = resource.generate(["fine", *faults])
    assert [r.error for r in results] == [None, "rate_limited", "server_error", "connection_dropped", "timeout"]

    configure(fault_server, script=queue("unauthorized"))
    with pytest.raises(LLMConfigurationError, match="HTTP 401") as refused:
        llm_resource(fault_server.base_url, env, tmp_path / "other.sqlite", cache_enabled=False).generate(["x"])

    assert_key_was_sent(fault_server, key)
    assert "(request key: ***)" in results[1].error_message  # the server echoed the key; the backend scrubbed it
    assert {"openai", "httpcore"} <= {record.name.split(".")[0].rstrip("2") for record in debug_logs.records}
    assert b"echo: fine" in files_bytes(tmp_path / "cache")  # the cache is read as stored
    client = resource.client
    assert_key_absent(
        key,
        error_messages=[r.error_message for r in results],
        configuration_error="".join(traceback.format_exception(refused.value)),
        resource=(repr(resource), str(resource)),
        client=(repr(client), str(client), repr(client.backend), client.model_id),
        usage=json.dumps(client.usage().metadata()),
        cache=files_bytes(tmp_path / "cache"),
        logs=(debug_logs.text, [record.getMessage() for record in debug_logs.records]),
    )


@pytest.fixture
def unset_variable(monkeypatch) -> str:
    """The name of an environment variable that is not set."""
    name = f"DATAFLOW_TEST_UNSET_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.delenv(name, raising=False)
    return name


@pytest.mark.parametrize("base_url", [None, "https://api.openai.com/v1/"])
def test_a_missing_key_for_openai_is_named_before_any_request(unset_variable, tmp_path, base_url):
    resource = LLMResource(backend="openai", model=MODEL, base_url=base_url, api_key_env=unset_variable)
    with pytest.raises(
        LLMConfigurationError, match=rf"needs an API key, and the environment variable {unset_variable}"
    ):
        resource.generate(["x"])
    with pytest.raises(LLMConfigurationError) as refused:
        resource.build_client()
    assert f"export {unset_variable}=" in refused.value.hint


def test_a_server_that_wants_a_key_names_the_unset_variable(fault_server, unset_variable, tmp_path):
    configure(fault_server, script=lambda _request: "unauthorized")
    resource = llm_resource(
        fault_server.base_url, unset_variable, tmp_path / "cache.sqlite", max_retries=5, max_concurrency=1
    )
    with pytest.raises(
        LLMConfigurationError,
        match=rf"HTTP 401 .*an API key is needed and the environment variable {unset_variable} \(api_key_env\)",
    ):
        resource.generate(["a", "b"])
    assert len(fault_server.requests) == 1


def test_a_server_that_needs_no_key_is_used_without_one(fault_server, unset_variable, tmp_path):
    resource = llm_resource(fault_server.base_url, unset_variable, tmp_path / "cache.sqlite")
    assert [r.text for r in resource.generate(["a"])] == ["echo: a"]


def test_a_refused_key_names_its_variable_but_not_the_key(fault_server, secret, tmp_path):
    env, key = secret
    configure(fault_server, script=lambda _request: "unauthorized", echo_key=True)
    with pytest.raises(
        LLMConfigurationError, match=rf"HTTP 401 .*the key in the environment variable {env} was refused"
    ) as refused:
        llm_resource(fault_server.base_url, env, tmp_path / "cache.sqlite").generate(["a"])
    assert_key_absent(key, error="".join(traceback.format_exception(refused.value)))


def test_an_exhausted_quota_fails_at_once(fault_server):
    """OpenAI answers an unpaid account with 429 ``insufficient_quota``: waiting for it would not help."""
    configure(fault_server, script=lambda _request: "quota")
    client = make_client(fault_server.base_url, max_retries=5, max_concurrency=1)
    with pytest.raises(LLMConfigurationError, match=r"HTTP 429 .*quota"):
        client.generate(["a", "b"])
    assert len(fault_server.requests) == 1


def ask_pipeline(data: Path) -> Pipeline:
    class Ask(Pipeline):
        group = "ask"

        def __init__(self) -> None:
            super().__init__()
            self.raw = FileSource(path=str(data), columns={"text": "string"})
            self.ask = PromptedGenerator(prompt=PromptTemplate(name="ask", version="1", template="Q: {{ text }}"))

        def forward(self):
            return self.ask(self.raw())

    return Ask()


def delta_rows(root: Path) -> str:
    """Every row of every Delta table under ``root``, as JSON text (the files themselves are compressed)."""
    tables = sorted(log.parent for log in root.rglob("_delta_log"))
    return "\n".join(pl.read_delta(str(table)).write_json() for table in tables)


def test_a_dagster_run_records_usage_but_not_the_api_key(fault_server, secret, tmp_path, debug_logs):
    env, key = secret
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in ("sky", "sea", "sun")))
    configure(fault_server, script=per_prompt({"Q: sea": "server_error"}), echo_key=True)
    root, cache = tmp_path / "delta", tmp_path / "cache" / "llm.sqlite"
    llm = llm_resource(fault_server.base_url, env, cache)
    with dg.instance_for_test() as instance:
        summary = materialize_pipeline(ask_pipeline(data), root=root, instance=instance, resources={"llm": llm})
        event = instance.get_latest_materialization_event(dg.AssetKey(["ask", "ask"]))
        metadata = {
            name: getattr(value, "value", value) for name, value in event.asset_materialization.metadata.items()
        }
        logs = [dg.serialize_value(entry) for run_id in summary.run_ids for entry in instance.all_logs(run_id)]

    assert_key_was_sent(fault_server, key)
    assert metadata["dataflow/llm/identity"] == f"openai:{MODEL}@{fault_server.base_url}"
    assert (metadata["dataflow/llm/calls"], metadata["dataflow/llm/retries"]) == (4, 1)
    assert metadata["dataflow/llm/errors_by_kind"] == {"server_error": 1}
    steps = {step.asset: step for step in summary.steps}
    assert (steps["ask/ask"].rows_in, steps["ask/ask"].rows_out) == (3, 2)
    rows = delta_rows(root)
    assert "The server had an error (request key: ***)" in rows  # the echoed key reached the table, scrubbed
    assert_key_absent(
        key,
        metadata=metadata,
        delta_rows=rows,
        delta_files=files_bytes(root),
        event_log=logs,
        cache=files_bytes(cache.parent),
        logs=debug_logs.text,
    )
