"""On-disk response cache (SQLite), keyed by a hash of the whole request, so a rerun never pays twice."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    created REAL NOT NULL,
    response TEXT NOT NULL
)
"""


def request_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """A stable hash of what decides the reply: model, messages and sampling parameters.

    Transport settings (timeouts, retries) and the API key are not part of a request.

    >>> request_key("m", [{"role": "user", "content": "hi"}], {"temperature": 0}) == request_key(
    ...     "m", [{"content": "hi", "role": "user"}], {"temperature": 0})
    True
    """
    canonical = json.dumps({"model": model, "messages": messages, "params": params},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """`get(key)` / `put(key, model, response)` over a SQLite file; safe to share between runs."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        # WAL + NORMAL: a commit is an append, not an fsync, and readers never block the writer.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for `key`, or None."""
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[0])

    def put(self, key: str, model: str, response: dict[str, Any]) -> None:
        """Store a response (a later put for the same key wins)."""
        data = json.dumps(response, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses (key, model, created, response) VALUES (?, ?, ?, ?)",
                             (key, model, time.time(), data))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
