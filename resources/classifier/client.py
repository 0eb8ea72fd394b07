"""A local sequence-classification model (transformers on torch's CPU build) behind the ``Classifier`` protocol:
batched, cached, counted.

The model is loaded from a folder with ``local_files_only``: nothing is downloaded, and a missing or incomplete
folder fails with the path in the message. Texts are scored in batches of similar length (less padding); every
score is stored in a SQLite cache keyed by the model's identity and the text, so a rematerialization of unchanged
rows costs no model call. The identity hashes the model's config and the size and first MiB of each weight file:
new weights make a new identity, hence new cache keys and a new code version in lineage.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from operators.engines import CounterUsage
from operators.errors import DataflowError
from operators.progress import track

_WEIGHTS = ("*.safetensors", "*.bin", "*.pt")


class LocalClassifier:
    """See the module docstring."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        batch_size: int = 32,
        max_length: int = 512,
        cache_path: str | Path | None = None,
        torch_threads: int | None = None,
    ) -> None:
        folder = Path(model_path).expanduser()
        if not (folder / "config.json").is_file():
            raise DataflowError(
                f"classifier model folder {folder} has no config.json",
                hint="give the path of a Hugging Face model folder (config.json, weights, tokenizer files), e.g. "
                "one saved with save_pretrained; set DATAFLOW_CLASSIFIER_MODEL or the resource's model_path",
            )
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if torch_threads:
            torch.set_num_threads(torch_threads)
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()
        config = self.model.config
        self.regression = config.problem_type == "regression" or config.num_labels == 1
        self.multi_label = config.problem_type == "multi_label_classification"
        names = [config.id2label.get(i, str(i)) for i in range(config.num_labels)]
        self.labels = ("score",) if self.regression and config.num_labels == 1 else tuple(names)
        self.identity = f"transformers:{folder.name}@{_fingerprint(folder)}"
        self.batch_size, self.max_length = batch_size, max_length
        self._cache = _ScoreCache(cache_path) if cache_path else None
        self._counts = {"texts": 0.0, "model_calls": 0.0, "cache_hits": 0.0, "seconds": 0.0}
        self._lock = threading.Lock()

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> np.ndarray:
        started = time.perf_counter()
        keys = [self._key(text, None if pairs is None else pairs[i]) for i, text in enumerate(texts)]
        cached = self._cache.get(keys) if self._cache else {}
        missing = [i for i, key in enumerate(keys) if key not in cached]
        scores = np.zeros((len(texts), len(self.labels)), np.float32)
        for i, key in enumerate(keys):
            if key in cached:
                scores[i] = cached[key]
        tracker = track(f"classifier {self.identity}", len(missing))
        order = sorted(missing, key=lambda i: len(texts[i]))  # similar lengths together: less padding
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            scores[batch] = self._run([texts[i] for i in batch], None if pairs is None else [pairs[i] for i in batch])
            if self._cache:
                self._cache.put({keys[i]: scores[i] for i in batch})
            tracker.advance(len(batch))
        with self._lock:
            self._counts["texts"] += len(texts)
            self._counts["model_calls"] += -(-len(missing) // self.batch_size)
            self._counts["cache_hits"] += len(texts) - len(missing)
            self._counts["seconds"] += time.perf_counter() - started
        return scores

    def usage(self) -> CounterUsage:
        with self._lock:
            return CounterUsage(dict(self._counts))

    def _run(self, texts: list[str], pairs: list[str] | None) -> np.ndarray:
        encoded = self.tokenizer(
            texts, pairs, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with self._torch.inference_mode():
            logits = self.model(**encoded).logits.float()
        if self.regression:
            values = logits
        elif self.multi_label:
            values = self._torch.sigmoid(logits)
        else:
            values = self._torch.softmax(logits, dim=-1)
        return values.numpy()

    def _key(self, text: str, pair: str | None) -> str:
        payload = json.dumps([self.identity, self.max_length, text, pair], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    for pattern in _WEIGHTS:
        for weights in sorted(folder.glob(pattern)):
            digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
            with weights.open("rb") as handle:
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:12]


class _ScoreCache:
    """Scores by key in SQLite (float32 bytes); one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as db:
            db.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def _connection(self) -> sqlite3.Connection:
        if getattr(self._local, "db", None) is None:
            self._local.db = sqlite3.connect(self.path, timeout=30)
        return self._local.db

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        db = self._connection()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = db.execute(f"SELECT key, value FROM scores WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update({key: np.frombuffer(value, np.float32) for key, value in rows})
        return found

    def put(self, scores: dict[str, np.ndarray]) -> None:
        with self._connection() as db:
            db.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?, ?)",
                [(key, value.astype(np.float32).tobytes()) for key, value in scores.items()],
            )
