"""A persistent, content-addressed cache of embedding vectors.

The key is a hash of the model's identity and the text, so the same text is embedded once per model whatever row,
step, pipeline or run it comes from, and a changed model misses everything. Vectors are stored as the model gave
them (little-endian float32 bytes, before normalisation). SQLite in WAL mode, as the LLM answer cache: safe with
several processes writing at once; the client writes after every batch, so an interrupted step keeps what it did.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

FLOAT32 = np.dtype("<f4")


def vector_key(identity: str, text: str) -> str:
    return hashlib.sha256(f"{identity}\0{text}".encode()).hexdigest()


class VectorCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL, created REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=FLOAT32)
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        if not vectors:
            return
        now = time.time()
        rows = [(key, np.asarray(vector, dtype=FLOAT32).tobytes(), now) for key, vector in vectors.items()]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO vectors (key, vector, created) VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]
