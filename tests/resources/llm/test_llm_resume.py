"""Every answer is in the cache as soon as it arrives: a client killed with SIGKILL in the middle of a step, or
stopped by a key revoked mid-step, keeps what it received, and the re-run asks the server only for the rest."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from resources.llm.cache import ResponseCache
from resources.llm.client import LLMConfigurationError
from tests.resources.llm.test_failing_steps import always, client_for, rows
from tests.resources.llm.test_openai_faults import configure

ROOT = Path(__file__).resolve().parents[3]
WORKER = """
import sys
from resources.llm.backends.openai_backend import OpenAIBackend
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMClient

base_url, cache_path = sys.argv[1:]
backend = OpenAIBackend(model="test-model", base_url=base_url, api_key="sk-plain", timeout_s=120)
client = LLMClient(backend, cache=ResponseCache(cache_path), max_concurrency=4)
client.generate([f"p{i}" for i in range(60)])
"""
CONCURRENCY = 4


def test_a_client_killed_mid_step_keeps_every_answer_and_the_rerun_asks_only_the_rest(fault_server, tmp_path):
    """The server answers 50 requests, then hangs. Once 4 requests hang (so the 50 answers were handled: a
    worker takes its next row only after finishing the last one), the client process gets SIGKILL."""
    hanging = threading.Event()

    def script(request):
        if request.number >= 50 + CONCURRENCY - 1:
            hanging.set()
        return "slow" if request.number >= 50 else None

    configure(fault_server, script=script, slow_s=120.0)
    cache_path = tmp_path / "cache.sqlite"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, fault_server.base_url, str(cache_path)], cwd=ROOT)
    try:
        assert hanging.wait(timeout=60), "the worker never reached the hanging requests"
    finally:
        worker.kill()  # SIGKILL: no cleanup, no flush
        worker.wait()
    assert worker.returncode == -9
    assert len(ResponseCache(cache_path)) == 50

    configure(fault_server, script=always(None))
    before = len(fault_server.requests)
    client = client_for(fault_server.base_url, cache=ResponseCache(cache_path))
    results = client.generate(rows(60))
    assert all(r.ok for r in results) and sum(r.cached for r in results) == 50
    assert len(fault_server.requests) - before == 10


def test_answers_received_before_a_key_is_revoked_are_kept(fault_server, tmp_path):
    configure(fault_server, script=lambda r: "unauthorized" if r.number >= 30 else None)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with pytest.raises(LLMConfigurationError, match="HTTP 401") as refused:
        client_for(fault_server.base_url, max_concurrency=1, cache=cache).generate(rows(60))
    assert [r.ok for r in refused.value.results] == [True] * 30 + [False] * 30
    assert len(cache) == 30

    configure(fault_server, script=always(None))
    before = len(fault_server.requests)
    assert all(r.ok for r in client_for(fault_server.base_url, cache=cache).generate(rows(60)))
    assert sorted(r.prompt for r in fault_server.requests[before:]) == sorted(rows(60)[30:])
