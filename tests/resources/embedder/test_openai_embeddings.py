"""The OpenAI-compatible embeddings backend through the real ``openai`` client over real HTTP, against the fault
server's ``/v1/embeddings``: batching, order, normalisation, retries of each fault, fatal errors, the API key
checked before any request and never shown, concurrency, and a cache that keeps every finished batch."""

from __future__ import annotations

import re

import numpy as np
import pytest

from resources.embedder.backends.openai_backend import OpenAIEmbeddingBackend
from resources.embedder.client import EmbedderClient
from resources.embedder.errors import EmbedderCallError, EmbedderConfigurationError
from resources.embedder.resource import EmbedderResource
from tests.resources.llm.fault_server import FaultServer, embedding_vector, free_port, per_prompt, queue

MODEL = "test-embed"
KEY_ENV = "DATAFLOW_TEST_EMBEDDING_KEY"
KEY = "sk-test-embedding-key"
TEXTS = ["one", "two words", "three words here", "and four words here", "five words are in here"]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


def make_client(server: FaultServer, **options) -> EmbedderClient:
    """A client on the fault server with tiny backoff delays, no cache and one request at a time unless told."""
    settings = {
        "backend": "openai",
        "model": MODEL,
        "base_url": server.base_url,
        "api_key_env": KEY_ENV,
        "max_retries": 2,
        "retry_base_delay_s": 0.01,
        "timeout_s": 10.0,
        "cache_enabled": False,
        "max_concurrency": 1,
        **options,
    }
    return EmbedderResource(**settings).build_client()


def expected(texts: list[str], dims: int = 8) -> np.ndarray:
    vectors = np.asarray([embedding_vector(text, dims) for text in texts], dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectors_come_back_in_order_normalised_in_batches(fault_server):
    client = make_client(fault_server, batch_size=2)
    vectors = client.embed(TEXTS)
    assert np.allclose(vectors, expected(TEXTS), atol=1e-6)
    assert [len(r.inputs) for r in fault_server.requests] == [2, 2, 1]
    request = fault_server.requests[0]
    assert request.body["model"] == MODEL and request.body["encoding_format"] == "float"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    used = client.usage().metadata()
    assert (used["calls"], used["texts"], used["retries"]) == (3, 5, 0)
    assert used["tokens"] == sum(len(text.split()) for text in TEXTS)


def test_the_identity_names_model_and_endpoint_without_credentials(fault_server):
    assert make_client(fault_server).identity == f"openai:{MODEL}@{fault_server.base_url}"
    backend = OpenAIEmbeddingBackend(model="m", base_url="http://user:secret@embed.internal:8000/v1")
    assert backend.identity == "openai:m@http://embed.internal:8000/v1"


@pytest.mark.parametrize("fault", ["rate_limit", "server_error", "malformed", "wrong_length", "drop"])
def test_a_retryable_fault_is_retried_then_succeeds(fault_server, fault):
    fault_server.script, fault_server.retry_after = queue(fault), "0"
    client = make_client(fault_server, batch_size=8)
    assert np.allclose(client.embed(TEXTS[:2]), expected(TEXTS[:2]), atol=1e-6)
    assert fault_server.faults() == {fault: 1, None: 1}
    assert client.usage().metadata()["retries"] == 1


PERSISTENT = [("server_error", "server_error"), ("malformed", "bad_response"), ("wrong_length", "bad_response")]


@pytest.mark.parametrize(("fault", "kind"), PERSISTENT)
def test_a_fault_that_persists_fails_the_call_after_the_retries(fault_server, fault, kind):
    fault_server.script = per_prompt({TEXTS[-1]: fault})
    with pytest.raises(EmbedderCallError, match=f"after 3 attempt\\(s\\): {kind}") as raised:
        make_client(fault_server).embed(TEXTS[-1:])
    assert len(fault_server.requests) == 3
    assert "run" in (raised.value.hint or "")


def test_retry_after_is_honoured(fault_server):
    fault_server.script, fault_server.retry_after = queue("rate_limit"), "0.3"
    make_client(fault_server).embed(["wait for it"])
    first, second = fault_server.requests
    assert second.arrived - first.arrived >= 0.3


@pytest.mark.parametrize(("fault", "words"), [("unauthorized", "check the API key"), ("not_found", "HTTP 404")])
def test_a_configuration_fault_stops_at_once_and_never_shows_the_key(fault_server, fault, words):
    fault_server.script, fault_server.echo_key = per_prompt({"text": fault}), True
    with pytest.raises(EmbedderConfigurationError, match=words) as raised:
        make_client(fault_server).embed(["text"])
    assert len(fault_server.requests) == 1
    assert KEY not in str(raised.value)


def test_nothing_listening_is_a_configuration_error():
    client = EmbedderResource(
        backend="openai", model=MODEL, base_url=f"http://127.0.0.1:{free_port()}/v1", api_key_env=KEY_ENV
    ).build_client()
    with pytest.raises(EmbedderConfigurationError, match=re.escape("nothing answers at http://127.0.0.1")):
        client.embed(["text"])


def test_a_missing_key_variable_is_named_before_any_request(fault_server, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(EmbedderConfigurationError, match=f"\\${KEY_ENV}, which is not set"):
        make_client(fault_server)
    assert fault_server.requests == []


def test_a_keyless_server_needs_no_key_variable(fault_server, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    assert make_client(fault_server, api_key_env="").embed(["text"]).shape == (1, 8)


def test_an_openai_backend_needs_a_model_name(fault_server):
    with pytest.raises(EmbedderConfigurationError, match="needs a model name"):
        make_client(fault_server, model="")


def test_finished_batches_are_cached_so_a_failed_call_resumes(fault_server, tmp_path):
    cache = {"cache_enabled": True, "cache_path": str(tmp_path / "vectors.sqlite"), "batch_size": 2}
    fault_server.script = queue(None, None, "unauthorized")
    with pytest.raises(EmbedderConfigurationError):
        make_client(fault_server, **cache).embed(TEXTS)
    assert len(fault_server.requests) == 3

    fault_server.script = queue()
    resumed = make_client(fault_server, **cache)
    assert np.allclose(resumed.embed(TEXTS), expected(TEXTS), atol=1e-6)
    assert len(fault_server.requests) == 4 and fault_server.requests[-1].inputs == ["one"]  # the shortest, last
    assert resumed.usage().metadata()["cache_hits"] == 4


def test_batches_go_out_concurrently_up_to_the_cap(fault_server):
    fault_server.latency_s = 0.1
    client = make_client(fault_server, batch_size=1, max_concurrency=3)
    assert np.allclose(client.embed(TEXTS * 2 + ["six"]), expected(TEXTS * 2 + ["six"]), atol=1e-6)
    assert len(fault_server.requests) == 6  # each distinct text once
    assert 2 <= fault_server.max_in_flight <= 3


def test_the_dimensions_are_learnt_from_one_cached_answer(fault_server, tmp_path):
    cache = {"cache_enabled": True, "cache_path": str(tmp_path / "vectors.sqlite")}
    fault_server.embedding_dims = 12
    assert make_client(fault_server, **cache).dimensions == 12
    assert make_client(fault_server, **cache).dimensions == 12
    assert len(fault_server.requests) == 1
