"""A fault-injecting OpenAI-compatible server for tests (stdlib only, 127.0.0.1, ephemeral port).

``POST /v1/chat/completions`` answers ``echo: <prompt>`` (or ``{"echo": <prompt>}`` when the request has a
``response_format``), where the prompt is the conversation's first user message. ``POST /v1/embeddings`` answers
a deterministic vector per input (:func:`embedding_vector`); its prompt is the first input. ``POST /v1/completions``
echoes its prompt with token log-probabilities in OpenAI's format (:func:`text_completion`). A script decides, per
request, whether to answer or to inject a fault (see ``FAULTS``); the default script always answers. Every request
is recorded with its headers, body, arrival time and how many requests were in flight when it arrived.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = (
    "rate_limit",  # 429 with a Retry-After header
    "quota",  # 429 insufficient_quota: the account has no credit left
    "server_error",  # 500
    "slow",  # sleeps ``slow_s`` (longer than the client's timeout), then answers
    "malformed",  # 200 whose body is not JSON
    "drop",  # closes the connection without a response
    "unauthorized",  # 401 with an OpenAI-style error body
    "not_found",  # 404 "model not found"
    "invalid_json_answer",  # 200 whose message content is not JSON (chat)
    "wrong_length",  # 200 with one vector fewer than the inputs (embeddings)
    "no_logprobs",  # 200 whose text completion has no logprobs, as from a server that ignores them (completions)
    "die",  # the server stops listening (later connections are refused) and drops this connection
)


@dataclass
class Recorded:
    """One request as the server saw it."""

    number: int
    """0-based arrival order."""
    arrived: float
    """``time.monotonic()`` at arrival."""
    headers: dict[str, str]
    """Header names lower-cased."""
    body: dict[str, Any]
    attempt: int
    """How many earlier requests had the same prompt (0 for the first)."""
    in_flight: int
    """Requests being handled when this one arrived, itself included."""
    fault: str | None = None

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages", [])

    @property
    def inputs(self) -> list[str]:
        """The texts of an embeddings request."""
        given = self.body.get("input", [])
        return [given] if isinstance(given, str) else list(given)

    @property
    def prompt(self) -> str:
        """The first user message (the prompt before any re-ask), or an embeddings request's first input."""
        if "input" in self.body:
            return next(iter(self.inputs), "")
        if "prompt" in self.body:
            return str(self.body["prompt"])
        return next((m["content"] for m in self.messages if m["role"] == "user"), "")


Script = Callable[[Recorded], str | None]
"""Decides the fault for a request (None: answer normally)."""


def queue(*faults: str | None) -> Script:
    """Faults in arrival order, one per request; normal answers once they are used up."""
    pending = deque(faults)
    lock = threading.Lock()

    def script(_request: Recorded) -> str | None:
        with lock:
            return pending.popleft() if pending else None

    return script


def per_prompt(faults: Mapping[str, str | Sequence[str | None]]) -> Script:
    """A fault by prompt: a name for every attempt, or a sequence by attempt (normal answers after it)."""

    def script(request: Recorded) -> str | None:
        wanted = faults.get(request.prompt)
        if wanted is None or isinstance(wanted, str):
            return wanted
        return wanted[request.attempt] if request.attempt < len(wanted) else None

    return script


class FaultServer:
    """The server; ``start()`` it (the ``fault_server`` fixture does), ``stop()`` it. Settings may change between
    requests: ``script`` (the fault of each request), ``retry_after`` (the Retry-After header of ``rate_limit``),
    ``slow_s`` (how long ``slow`` waits before answering), ``latency_s`` (how long every normal answer takes),
    ``malformed_content_type`` (the Content-Type of the ``malformed`` body), ``echo_key`` (error messages repeat
    the request's bearer token, as careless proxies do) and ``embedding_dims`` (the length of embedding vectors).
    A script runs under the server's lock: it sees the requests before it, and ``attempt`` counts them."""

    def __init__(self, script: Script | None = None, port: int = 0) -> None:
        """``port``: 0 for any free one; a port a stopped server used, to bring it back where clients expect it."""
        self.script: Script = script or (lambda _request: None)
        self.port = port
        self.retry_after = "1"
        self.slow_s = 5.0
        self.latency_s = 0.0
        self.malformed_content_type = "application/json"
        self.echo_key = False
        self.embedding_dims = 8
        self.requests: list[Recorded] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> FaultServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.port = self._httpd.server_address[1]
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fault-server", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent); requests being handled end at once."""
        self._stopping.set()
        with self._lock:
            httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self.port, "start the server first"
        return f"http://127.0.0.1:{self.port}/v1"

    def faults(self) -> Counter[str | None]:
        """How many requests got each fault (None: a normal answer)."""
        return Counter(r.fault for r in self.requests)

    def _arrive(self, headers: dict[str, str], body: dict[str, Any]) -> Recorded:
        with self._lock:
            request = Recorded(len(self.requests), time.monotonic(), headers, body, 0, self._in_flight + 1)
            request.attempt = sum(r.prompt == request.prompt for r in self.requests)
            request.fault = self.script(request)
            if request.fault is not None and request.fault not in FAULTS:
                raise ValueError(f"unknown fault {request.fault!r}")
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        return request

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


def completion(request: Recorded, content: str) -> dict[str, Any]:
    """An OpenAI chat-completion body answering ``request`` with ``content``."""
    prompt_tokens = sum(len(m["content"].split()) for m in request.messages)
    completion_tokens = len(content.split())
    return {
        "id": f"chatcmpl-{request.number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", ""),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"},
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def answer(request: Recorded) -> str:
    """The normal answer: JSON when the request asked for it, text otherwise."""
    if "response_format" in request.body:
        return json.dumps({"echo": request.prompt})
    return f"echo: {request.prompt}"


def embedding_vector(text: str, dims: int) -> list[float]:
    """The server's vector for a text: ``dims`` numbers in [-1, 1) from its SHA-256, the same on every call."""
    digest = b"".join(hashlib.sha256(f"{block}:{text}".encode()).digest() for block in range(dims // 32 + 1))
    return [digest[i] / 128 - 1 for i in range(dims)]


def embeddings(request: Recorded, dims: int, *, drop_last: bool = False) -> dict[str, Any]:
    """An OpenAI embeddings body for ``request``'s inputs (one vector short with ``drop_last``)."""
    inputs = request.inputs[:-1] if drop_last else request.inputs
    tokens = sum(len(text.split()) for text in request.inputs)
    return {
        "object": "list",
        "model": request.body.get("model", ""),
        "data": [
            {"object": "embedding", "index": i, "embedding": embedding_vector(text, dims)}
            for i, text in enumerate(inputs)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


ECHO_TOKEN = re.compile(r"\s*\S+|\s+$")
"""The server's tokens: each word with the white space before it (as GPT-2's byte-level BPE attaches it)."""
GENERATED = " end"
"""The token a text completion generates after the prompt (``max_tokens=1``)."""


def token_logprob(token: str) -> float:
    """The server's log-probability of a token: -0.1 per character, so a test can tell which tokens it got."""
    return -0.1 * len(token)


def text_completion(request: Recorded, *, with_logprobs: bool = True) -> dict[str, Any]:
    """A legacy text-completion body: the prompt echoed (``echo``) then :data:`GENERATED`, with the log-probability
    and character offset of each token (OpenAI's format: the first token's log-probability is null) when the
    request asked for ``logprobs``."""
    prompt = request.prompt if request.body.get("echo") else ""
    tokens = [(m.group(), m.start()) for m in ECHO_TOKEN.finditer(prompt)] + [(GENERATED, len(prompt))]
    logprobs = {
        "tokens": [token for token, _ in tokens],
        "token_logprobs": [None if i == 0 else token_logprob(token) for i, (token, _) in enumerate(tokens)],
        "top_logprobs": None,
        "text_offset": [offset for _, offset in tokens],
    }
    return {
        "id": f"cmpl-{request.number}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": request.body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "text": prompt + GENERATED,
                "logprobs": logprobs if with_logprobs and request.body.get("logprobs") is not None else None,
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": len(tokens) - 1, "completion_tokens": 1, "total_tokens": len(tokens)},
    }


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def free_port() -> int:
    """A port nothing listens on (free when this returns)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # the test output stays quiet
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = server._arrive(headers, json.loads(raw or b"{}"))
            try:
                self._respond(request)
            except OSError:  # the client gave up (timeout) or the connection was dropped on purpose
                pass
            finally:
                server._leave()

        def _respond(self, request: Recorded) -> None:
            fault = request.fault
            key = request.headers.get("authorization", "").removeprefix("Bearer ")
            echoed = f" (request key: {key})" if server.echo_key else ""
            if self.path not in ("/v1/chat/completions", "/v1/embeddings", "/v1/completions"):
                self._send(404, error_body(f"no route {self.path}", "invalid_request_error"))
            elif fault == "rate_limit":
                self._send(
                    429,
                    error_body(f"Rate limit reached, slow down{echoed}", "rate_limit_error"),
                    {"Retry-After": server.retry_after},
                )
            elif fault == "quota":
                self._send(
                    429, error_body("You exceeded your current quota", "insufficient_quota", "insufficient_quota")
                )
            elif fault == "server_error":
                self._send(500, error_body(f"The server had an error{echoed}", "server_error"))
            elif fault == "malformed":
                self._send(200, b"<html>502 upstream proxy error", {"Content-Type": server.malformed_content_type})
            elif fault in ("drop", "die"):
                if fault == "die":
                    threading.Thread(target=server.stop, name="fault-server-stop", daemon=True).start()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif fault == "unauthorized":
                self._send(
                    401,
                    error_body(f"Incorrect API key provided{echoed}.", "invalid_request_error", "invalid_api_key"),
                )
            elif fault == "not_found":
                missing = f"The model `{request.body.get('model')}` does not exist{echoed}"
                self._send(404, error_body(missing, "invalid_request_error", "model_not_found"))
            elif fault == "invalid_json_answer":
                self._send(200, completion(request, "Sure! Here is the JSON you asked for: {echo: oops"))
            else:
                delay = server.slow_s if fault == "slow" else server.latency_s
                if delay and server._stopping.wait(delay):
                    return
                if self.path == "/v1/embeddings":
                    self._send(200, embeddings(request, server.embedding_dims, drop_last=fault == "wrong_length"))
                elif self.path == "/v1/completions":
                    self._send(200, text_completion(request, with_logprobs=fault != "no_logprobs"))
                else:
                    self._send(200, completion(request, answer(request)))

        def _send(self, status: int, body: dict[str, Any] | bytes, headers: Mapping[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
