"""A persistent, content-addressed cache of LLM answers, written one answer at a time.

The key is a hash of everything that decides an answer (model, prompt or conversation, system prompt, template
name and version, sampling parameters, schema), so rematerializing unchanged data makes no call and a changed
template misses only the prompts it changed. Token scores (``score_tokens``) are answers too, keyed by model,
context and text under a kind marker of their own, so they never meet a generated answer. Only answers are
stored, so a failed call is tried again next time.

Each answer is committed as soon as it arrives: a step killed at any point (kill -9, out of memory, a server that
died) keeps every answer it received, and its re-run asks only for the rest. SQLite in WAL mode is safe with several
processes writing at once (concurrent runs, the multiprocess executor); ``synchronous=NORMAL`` makes a commit an
append to the WAL without an fsync, which survives the process being killed (not a power cut before the next
checkpoint) and costs tens of microseconds (``benchmarks/llm_faults.py`` measures it).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from resources.llm.backend import Completion, Request, ScoreRequest

SCORE_KIND = "score_tokens/1"
"""The kind marker of token-score keys; its version changes when the way texts are scored changes."""


def cache_key(model_id: str, request: Request, template: str | None) -> str:
    payload = {
        "model": model_id,
        "prompt": request.prompt if isinstance(request.prompt, str) else list(request.prompt),
        "system": request.system,
        "template": template,
        "sampling": request.sampling,
        "schema": request.json_schema,
    }
    return _digest(payload)


def score_key(model_id: str, request: ScoreRequest) -> str:
    return _digest({"kind": SCORE_KIND, "model": model_id, "context": request.context, "text": request.text})


def _digest(payload: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class ResponseCache:
    """One connection per process, shared by the client's threads under a lock (opened again in a forked child,
    which must not use its parent's)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        with self._lock:
            db = self._connection()
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL, created REAL NOT NULL)"
            )
            db.commit()

    def _connection(self) -> sqlite3.Connection:
        """The process's connection (call under the lock)."""
        if self._db is None or self._pid != os.getpid():
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._pid = os.getpid()
        return self._db

    def get_many(self, keys: Sequence[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        with self._lock:
            db = self._connection()
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for key, answer in db.execute(f"SELECT key, answer FROM answers WHERE key IN ({marks})", chunk):
                    stored = json.loads(answer)
                    if stored.get("logprobs") is not None:
                        stored["logprobs"] = tuple(stored["logprobs"])
                    found[key] = Completion(**stored)
        return found

    def put(self, key: str, completion: Completion) -> None:
        """Store one answer, committed before this returns."""
        with self._lock:
            db = self._connection()
            with db:  # one transaction, committed on leaving
                db.execute(
                    "INSERT OR REPLACE INTO answers (key, answer, created) VALUES (?, ?, ?)",
                    (key, json.dumps({k: v for k, v in vars(completion).items() if v is not None}), time.time()),
                )

    def __len__(self) -> int:
        with self._lock:
            return self._connection().execute("SELECT count(*) FROM answers").fetchone()[0]
