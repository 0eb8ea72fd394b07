"""The fault server fixture: an OpenAI-compatible server on 127.0.0.1 (chat completions and embeddings)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resources.llm.fault_server import FaultServer


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    yield server
    server.stop()
