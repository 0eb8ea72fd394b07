"""A persistent, content-addressed cache of LLM answers.

The key is a hash of everything that decides an answer (model, prompt, system prompt, template name and version,
sampling parameters, schema), so rematerializing unchanged data makes no call and a changed template misses only
the prompts it changed. SQLite in WAL mode is safe with several processes writing at once (concurrent runs, the
multiprocess executor); only successful answers are stored, so a failed call is tried again next time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from resources.llm.backend import Completion, Request


def cache_key(model_id: str, request: Request, template: str | None) -> str:
    payload = {
        "model": model_id,
        "prompt": request.prompt,
        "system": request.system,
        "template": template,
        "sampling": request.sampling,
        "schema": request.json_schema,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL, created REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get_many(self, keys: Sequence[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for key, answer in db.execute(f"SELECT key, answer FROM answers WHERE key IN ({marks})", chunk):
                    found[key] = Completion(**json.loads(answer))
        return found

    def put_many(self, entries: dict[str, Completion]) -> None:
        if not entries:
            return
        now = time.time()
        rows: list[tuple[str, str, Any]] = [
            (key, json.dumps(vars(completion)), now) for key, completion in entries.items()
        ]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO answers (key, answer, created) VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT count(*) FROM answers").fetchone()[0]
