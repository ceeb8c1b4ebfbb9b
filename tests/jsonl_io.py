"""JSON Lines helpers for tests (one place): write records to a file, read a file back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_jsonl(path: str | Path, records: list[Any]) -> str:
    """Write one JSON value per line (CJK kept readable); returns the path as a string."""
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return str(path)


def read_jsonl(path: str | Path) -> list[Any]:
    """The JSON values of a JSON Lines file, blank lines skipped."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
