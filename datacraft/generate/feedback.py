"""The feedback file: bad examples with the reason each is bad, shown to the model as counter-examples.

One JSON object per line: the Alpaca fields of the bad example (or a `record` object), a
`reason`, and optionally `better` (a corrected version). A line with only a `reason` is a general
rule ("do not start answers with 'Sure!'"). `review` appends to this file; people edit it by hand.
The file's content is versioned by hash, and each generated item records the version it saw.

The file is also the review log: a line written by `review` carries the record's `id` and a
`verdict` (`accepted`, `rejected` or `edited`; an accepted line needs no reason). The latest
decision for a record (matched by id and instruction) is the truth: `generate` drops rejected
records from its output, replaces edited ones, and shows only accepted or edited ones as examples.
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
from datacraft.records import Record, training_view

_RECORD_FIELDS = ("instruction", "input", "output", "system", "history")
ACCEPTED, REJECTED, EDITED = "accepted", "rejected", "edited"
VERDICTS = (ACCEPTED, REJECTED, EDITED)


@dataclass(frozen=True)
class FeedbackEntry:
    """One lesson: what was bad (optional example), why, and what would have been better."""

    reason: str
    record: Record | None = None
    better: Record | None = None
    id: str | None = None  # the reviewed record's id (entries written by `review`)
    verdict: str | None = None  # accepted / rejected / edited; None: a hand-written lesson
    source: str | None = None  # who decided: human, web, judge

    def key(self) -> dict[str, Any]:
        return {"reason": self.reason, "record": self.record, "better": self.better, "id": self.id,
                "verdict": self.verdict}

    @property
    def is_lesson(self) -> bool:
        """A counter-example or rule for the prompt (an accepted record is not one)."""
        return self.verdict != ACCEPTED and bool(self.reason)


def decision_key(record_id: Any, instruction: Any) -> tuple[str, str]:
    """What ties a decision to a record: its id and its instruction (ids repeat across runs).

    >>> decision_key("gen-0-1", " Add 2 and 2. ")
    ('gen-0-1', 'Add 2 and 2.')
    """
    return str(record_id), str(instruction or "").strip()


@dataclass
class Feedback:
    """All entries of a feedback file, and their version (None when there is no feedback)."""

    entries: list[FeedbackEntry] = field(default_factory=list)
    path: str | None = None

    @property
    def version(self) -> str | None:
        return content_version([e.key() for e in self.entries]) if self.entries else None

    def decisions(self) -> dict[tuple[str, str], FeedbackEntry]:
        """The latest review decision for each record, by `decision_key`."""
        latest: dict[tuple[str, str], FeedbackEntry] = {}
        for entry in self.entries:
            if entry.id is not None and entry.verdict in VERDICTS:
                latest[decision_key(entry.id, (entry.record or {}).get("instruction"))] = entry
        return latest

    def lessons(self) -> list[FeedbackEntry]:
        """Counter-examples and rules; a rejection the reviewer later overturned is not one."""
        latest = self.decisions()
        return [e for e in self.entries if e.is_lesson and (
            e.id is None or latest.get(decision_key(e.id, (e.record or {}).get("instruction")), e).verdict != ACCEPTED)]

    def for_prompt(self, limit: int) -> list[FeedbackEntry]:
        """At most `limit` lessons: the newest one for each distinct reason first, oldest first in the prompt."""
        lessons = self.lessons()
        chosen: list[FeedbackEntry] = []
        seen: set[str] = set()
        for entry in reversed(lessons):
            if entry.reason.casefold() not in seen:
                seen.add(entry.reason.casefold())
                chosen.append(entry)
        for entry in reversed(lessons):  # room left: more examples of the same reasons
            if len(chosen) >= limit:
                break
            if entry not in chosen:
                chosen.append(entry)
        picked = set(map(id, chosen[:limit]))
        return [e for e in lessons if id(e) in picked]

    def reasons(self) -> list[str]:
        """Distinct reasons, most used first (offered as choices in `review`)."""
        counts: dict[str, int] = {}
        for entry in self.lessons():
            counts[entry.reason] = counts.get(entry.reason, 0) + 1
        return sorted(counts, key=lambda r: -counts[r])


def _alpaca_part(value: Any) -> Record | None:
    if not isinstance(value, dict):
        return None
    record = {k: value[k] for k in _RECORD_FIELDS if value.get(k) not in (None, "", [])}
    return record or None


def entry_from_row(value: dict[str, Any]) -> FeedbackEntry:
    """A FeedbackEntry from one line of the file; ValueError when it has no reason."""
    verdict = value.get("verdict")
    record_id = value.get("id")
    better = _alpaca_part(value.get("better"))
    if verdict is None and record_id is not None:  # written by an older `review`
        verdict = EDITED if better else REJECTED
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r} (use one of {', '.join(VERDICTS)})")
    reason = value.get("reason")
    if verdict == ACCEPTED and not reason:
        reason = ""
    elif not isinstance(reason, str) or not reason.strip():
        raise ValueError('feedback entry has no "reason" (say why the example is bad)')
    record = _alpaca_part(value.get("record")) or _alpaca_part(value)
    source = value.get("source")
    return FeedbackEntry(reason.strip(), record, better, None if record_id is None else str(record_id), verdict,
                         None if source is None else str(source))


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


def apply_decisions(records: list[Record], decisions: dict[tuple[str, str], FeedbackEntry]
                    ) -> tuple[list[Record], list[dict[str, Any]]]:
    """(records with the decisions applied, reject entries): rejected ones leave, edited ones are replaced.

    Every record that stays has `meta.review.verdict`: accepted, edited, or unreviewed.
    """
    kept: list[Record] = []
    removed: list[dict[str, Any]] = []
    for record in records:
        entry = decisions.get(decision_key(record.get("id"), training_view(record).get("instruction")))
        meta = dict(record.get("meta") or {})
        if entry is None:
            meta["review"] = {"verdict": "unreviewed"}
            kept.append({**record, "meta": meta})
            continue
        meta["review"] = {"verdict": entry.verdict, "by": entry.source or "human"}
        if entry.verdict == REJECTED:
            code = "judge_rejected" if entry.source == "judge" else "rejected_in_review"
            removed.append({"stage": "review", "reason": code, "detail": entry.reason, "source": record.get("id"),
                            "record": record})
            continue
        if entry.verdict == EDITED and entry.better:
            fields = {k: entry.better.get(k, "") for k in ("instruction", "input", "output")}
            record = {**{k: v for k, v in record.items() if k not in fields}, **fields}
            record = {**record, **{k: v for k, v in entry.better.items() if k not in fields}}
        kept.append({**record, "meta": meta})
    return kept, removed


def write_feedback(path: str, head: str, entries: list[dict[str, Any]]) -> None:
    """Rewrite the feedback file atomically: `head` (the file as it was) and then `entries`."""
    from datacraft.io.writers import atomic_write

    if head and not head.endswith("\n"):
        head += "\n"  # a hand-edited file may lack its final newline
    lines = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(head + lines)


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
