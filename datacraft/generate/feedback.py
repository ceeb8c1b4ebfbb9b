"""The feedback file: bad examples with the reason each is bad, shown to the model as counter-examples.

One JSON object per line: the Alpaca fields of the bad example (or a `record` object), a
`reason`, and optionally `better` (a corrected version). A line with only a `reason` is a general
rule ("do not start answers with 'Sure!'"). `review` appends to this file; people edit it by hand.
The file's content is versioned by hash, and each generated item records the version it saw.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datacraft.errors import InputError
from datacraft.generate.seeds import content_version
from datacraft.io.readers import iter_records
from datacraft.records import Record

_RECORD_FIELDS = ("instruction", "input", "output", "system", "history")


@dataclass(frozen=True)
class FeedbackEntry:
    """One lesson: what was bad (optional example), why, and what would have been better."""

    reason: str
    record: Record | None = None
    better: Record | None = None

    def key(self) -> dict[str, Any]:
        return {"reason": self.reason, "record": self.record, "better": self.better}


@dataclass
class Feedback:
    """All entries of a feedback file, and their version (None when there is no feedback)."""

    entries: list[FeedbackEntry] = field(default_factory=list)
    path: str | None = None

    @property
    def version(self) -> str | None:
        return content_version([e.key() for e in self.entries]) if self.entries else None

    def for_prompt(self, limit: int) -> list[FeedbackEntry]:
        """At most `limit` entries: the newest one for each distinct reason first, oldest first in the prompt."""
        chosen: list[FeedbackEntry] = []
        seen: set[str] = set()
        for entry in reversed(self.entries):
            if entry.reason.casefold() not in seen:
                seen.add(entry.reason.casefold())
                chosen.append(entry)
        for entry in reversed(self.entries):  # room left: more examples of the same reasons
            if len(chosen) >= limit:
                break
            if entry not in chosen:
                chosen.append(entry)
        picked = set(map(id, chosen[:limit]))
        return [e for e in self.entries if id(e) in picked]

    def reasons(self) -> list[str]:
        """Distinct reasons, most used first (offered as choices in `review`)."""
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.reason] = counts.get(entry.reason, 0) + 1
        return sorted(counts, key=lambda r: -counts[r])


def _alpaca_part(value: Any) -> Record | None:
    if not isinstance(value, dict):
        return None
    record = {k: value[k] for k in _RECORD_FIELDS if value.get(k) not in (None, "", [])}
    return record or None


def entry_from_row(value: dict[str, Any]) -> FeedbackEntry:
    """A FeedbackEntry from one line of the file; ValueError when it has no reason."""
    reason = value.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError('feedback entry has no "reason" (say why the example is bad)')
    record = _alpaca_part(value.get("record")) or _alpaca_part(value)
    return FeedbackEntry(reason.strip(), record, _alpaca_part(value.get("better")))


def load_feedback(path: str | None, *, missing_ok: bool = False) -> Feedback:
    """Read a feedback file; a bad line is an InputError naming it."""
    if path is None or (missing_ok and not Path(path).exists()):
        return Feedback(path=path)
    if not Path(path).exists():
        raise InputError(path, "feedback file not found (create it with `datacraft review`, or by hand)")
    entries = []
    for row in iter_records(path, fmt="jsonl", strict=True):
        try:
            entries.append(entry_from_row(row.value))
        except ValueError as exc:
            raise InputError(path, str(exc), row.line) from None
    return Feedback(entries, path)


def append_feedback(path: str, entries: list[dict[str, Any]]) -> None:
    """Append entries to the feedback file and make them durable at once (a log people keep editing)."""
    if not entries:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    needs_newline = False
    if Path(path).exists() and Path(path).stat().st_size:
        with open(path, "rb") as existing:  # a hand-edited file may lack its final newline
            existing.seek(-1, os.SEEK_END)
            needs_newline = existing.read(1) != b"\n"
    with open(path, "a", encoding="utf-8") as handle:
        if needs_newline:
            handle.write("\n")
        for entry in entries:
            handle.write(json.dumps({**entry, "time": entry.get("time", stamp)}, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
