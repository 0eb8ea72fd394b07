"""The openai backend against a real OpenAI-compatible server: llama-cpp-python's, on 127.0.0.1, serving the
bundled SmolLM2-135M GGUF. One server per module, on one thread (``n_threads`` and ``n_threads_batch``, idle
OpenMP threads not spinning: the machine may be small and shared), in its own process group, killed at teardown.

llama.cpp's server answers HTTP 500 to ``response_format`` type ``json_schema``, hence
``structured_output="json_object"``. SmolLM2's answers are poor; these tests check the plumbing, not the answers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import jsonschema
import pytest

from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, Pipeline, PromptedEvaluator, PromptTemplate
from resources.llm.resource import LLMResource

pytestmark = pytest.mark.llm

pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")

STARTUP_TIMEOUT_S = 60
COLOR_SCHEMA = {
    "type": "object",
    "properties": {"color": {"type": "string", "enum": ["blue", "green", "red", "yellow"]}},
    "required": ["color"],
}
SAMPLING = {"temperature": 0.0, "max_tokens": 32, "seed": 0}


@dataclass(frozen=True)
class Server:
    base_url: str
    model: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def model_path() -> Path:
    from resources.llm.backend import CallError
    from resources.llm.backends.llama_cpp_backend import default_model_path

    try:
        path = default_model_path()
    except CallError as error:
        pytest.skip(error.message)
    if not path.is_file():
        pytest.skip(f"no GGUF file at {path}")
    return path


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    """``python -m llama_cpp.server`` on one thread, as the leader of a new process group."""
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path())]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1"]
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "OMP_WAIT_POLICY": "passive"},
        )


def wait_for_model(base_url: str, process: subprocess.Popen[bytes], log: Path) -> str:
    """The model id ``GET /models`` reports, once the server answers; fails with the server's output if it
    exits or does not answer within ``STARTUP_TIMEOUT_S``."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                return json.load(response)["data"][0]["id"]
        except OSError:  # refused, reset, timed out, HTTP error: not up yet
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer in {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    process = start_server(port, log)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        yield Server(base_url, wait_for_model(base_url, process, log))
    finally:
        stop_server(process)


def resource(server: Server, cache: Path) -> LLMResource:
    return LLMResource(
        backend="openai",
        base_url=server.base_url,
        model=server.model,
        structured_output="json_object",
        cache_path=str(cache),
        timeout_s=30,
        retry_base_delay_s=0.2,
    )


def test_plain_generate_returns_text_and_token_usage(server, tmp_path):
    llm = resource(server, tmp_path / "cache.sqlite")
    (result,) = llm.generate(["Say hello in one short sentence."], **SAMPLING)
    assert result.ok, result.error_message
    assert result.text and result.text.strip()
    assert result.prompt_tokens > 0 and result.completion_tokens > 0 and not result.cached
    usage = llm.usage()
    assert (usage.calls, usage.completion_tokens) == (1, result.completion_tokens)
    assert llm.model_id == f"openai:{server.model}@{server.base_url}"


def test_json_schema_generate_returns_parsed_json_matching_the_schema(server, tmp_path):
    llm = resource(server, tmp_path / "cache.sqlite")
    prompt = 'What color is a clear daytime sky? Answer in JSON like {"color": "..."}.'
    (result,) = llm.generate([prompt], json_schema=COLOR_SCHEMA, **SAMPLING)
    assert result.ok, f"{result.error}: {result.error_message}"
    jsonschema.validate(result.parsed, COLOR_SCHEMA)
    assert result.parsed == json.loads(result.text)


def test_identical_generate_is_served_from_the_cache(server, tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = resource(server, cache)
    (answer,) = first.generate(["Name a fruit."], **SAMPLING)
    assert answer.ok and not answer.cached
    again = resource(server, cache)  # a new client, as in the next run: only the SQLite file is shared
    (cached,) = again.generate(["Name a fruit."], **SAMPLING)
    assert cached.cached and cached.text == answer.text
    assert (again.usage().calls, again.usage().cache_hits) == (0, 1)
    (repeated,) = first.generate(["Name a fruit."], **SAMPLING)
    assert repeated.cached and first.usage().calls == 1


RATE = PromptTemplate(
    name="rate",
    version="1",
    template="Rate how clear this sentence is, from 1 to 5: {{ text }}",
    system='Answer in JSON: {"score": <1-5>, "rationale": "<a few words>"}.',
)


class RatePipeline(Pipeline):
    group = "llama_server"

    def __init__(self, data: Path) -> None:
        super().__init__()
        self.raw = FileSource(path=str(data), columns={"text": "string"})
        self.rate = PromptedEvaluator(prompt=RATE, max_tokens=48)

    def forward(self):
        return self.rate(self.raw())


def test_pipeline_with_a_prompted_evaluator_accounts_for_every_row(server, tmp_path, delta_root, instance):
    texts = ["The sky is blue.", "Water is wet.", "asdf qwer zxcv", "Cats sleep a lot."]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    llm = resource(server, tmp_path / "cache.sqlite")
    summary = materialize_pipeline(RatePipeline(data), root=delta_root, instance=instance, resources={"llm": llm})
    (step,) = [s for s in summary.steps if s.asset == "llama_server/rate"]
    assert step.rows_in == len(texts) == step.rows_out + sum(step.removed_by_reason.values())
    assert all(reason.startswith("llm_") for reason in step.removed_by_reason), step.removed_by_reason
    event = instance.get_latest_materialization_event(dg.AssetKey(["llama_server", "rate"]))
    metadata = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
    assert metadata["dataflow/llm/calls"] >= len(texts)
    assert metadata["dataflow/llm/identity"] == llm.model_id
