"""A review session: decisions on generated records, saved to the feedback file as they are made.

Every decision (accept, reject with a reason, edit) is a line in the feedback file, rewritten
atomically at once, so a crash or a closed browser tab loses nothing. The feedback file is the
truth: the dataset written by `write` (and by the next `generate --feedback`) is the input with the
latest decisions applied: rejected records leave it (to the rejects file, with the reason), edited
ones replace their originals, undecided ones stay, marked `unreviewed`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from datacraft.errors import InputError
from datacraft.generate.feedback import (
    ACCEPTED,
    EDITED,
    REJECTED,
    Feedback,
    FeedbackEntry,
    apply_decisions,
    decision_key,
    entry_from_row,
    load_feedback,
    write_feedback,
)
from datacraft.io.readers import iter_records
from datacraft.io.writers import JsonlWriter, write_records
from datacraft.records import Record, training_view

UNDECIDED = "undecided"  # the judge's reply could not be read: the record stays, unreviewed

__all__ = ["ACCEPTED", "EDITED", "REJECTED", "UNDECIDED", "ReviewSession", "load_for_review", "record_key"]


def load_for_review(path: str, sample: int | None = None, seed: int = 0,
                    read_options: dict[str, Any] | None = None) -> tuple[list[Record], list[Record]]:
    """(records to review, all records in the file): all of them in order, or a seeded sample of `sample`."""
    records = []
    stem = "stdin" if path == "-" else Path(path).stem
    for row in iter_records(path, strict=True, **(read_options or {})):
        record = row.value
        record.setdefault("id", f"{stem}:{row.line}")
        records.append(record)
    if not records:
        raise InputError(path, "no records to review")
    chosen = records
    if sample is not None and sample < len(records):
        picked = sorted(random.Random(seed).sample(range(len(records)), sample))
        chosen = [records[i] for i in picked]
    return chosen, records


def record_key(record: Record) -> tuple[str, str]:
    """The key a decision about `record` is stored under (id and instruction)."""
    return decision_key(record.get("id"), training_view(record).get("instruction"))


def _fields(record: Record) -> Record:
    return {k: v for k, v in training_view(record).items() if v not in ("", None)}


class ReviewSession:
    """Decisions of one reviewer; `reasons` offers the reasons used before (most used first)."""

    def __init__(self, feedback_path: str, reviewer: str = "human"):
        self.feedback_path = feedback_path
        self.reviewer = reviewer
        path = Path(feedback_path)
        self._head = path.read_text(encoding="utf-8") if path.exists() else ""
        self._earlier = load_feedback(feedback_path, missing_ok=True)
        self.new: list[dict[str, Any]] = []  # the lines this session added, in order
        self.reasons = self._earlier.reasons()

    # -- what has been decided -----------------------------------------------------------------------
    def feedback(self) -> Feedback:
        entries = [*self._earlier.entries, *(entry_from_row(e) for e in self.new)]
        return Feedback(entries, self.feedback_path)

    def decisions(self) -> dict[tuple[str, str], FeedbackEntry]:
        return self.feedback().decisions()

    def decided(self, record: Record) -> FeedbackEntry | None:
        return self.decisions().get(record_key(record))

    def counts(self) -> dict[str, int]:
        """This session's decisions by verdict (an undone one no longer counts)."""
        return dict(Counter(entry["verdict"] for entry in self.new))

    # -- deciding ------------------------------------------------------------------------------------
    def _decide(self, record: Record, verdict: str, reason: str = "", better: Record | None = None,
                **extra: Any) -> None:
        body = {"instruction": training_view(record).get("instruction", "")} if verdict == ACCEPTED else _fields(record)
        entry = {**body, "reason": reason, "id": str(record.get("id")), "verdict": verdict, "source": self.reviewer,
                 **({"better": better} if better else {}), **extra, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if verdict == ACCEPTED and not reason:
            del entry["reason"]
        self.new.append(entry)
        self._save_feedback()
        if reason and verdict != ACCEPTED and reason not in self.reasons:
            self.reasons.append(reason)

    def accept(self, record: Record, **extra: Any) -> None:
        self._decide(record, ACCEPTED, **extra)

    def reject(self, record: Record, reason: str, **extra: Any) -> None:
        """Reject with a reason: the record leaves the dataset and becomes a counter-example."""
        self._decide(record, REJECTED, reason, **extra)

    def edit(self, record: Record, edited: Record, reason: str = "") -> None:
        """Keep the corrected record; the original and the correction go to the feedback file."""
        fixed = {**{k: v for k, v in record.items() if k not in ("instruction", "input", "output")}, **edited}
        self._decide(record, EDITED, reason or "corrected in review", better=_fields(fixed))

    def undo(self) -> dict[str, Any] | None:
        """Take back this session's last decision; returns its line, or None when there is none."""
        if not self.new:
            return None
        entry = self.new.pop()
        self._save_feedback()
        return entry

    def _save_feedback(self) -> None:
        write_feedback(self.feedback_path, self._head, self.new)

    # -- the dataset -----------------------------------------------------------------------------------
    def write(self, records: list[Record], output: str, rejects: str | None = None) -> dict[str, int]:
        """Write `records` with every decision applied (and the rejected ones to `rejects`); returns counts."""
        kept, removed = apply_decisions(records, self.decisions())
        written = write_records(output, kept)
        if rejects:
            with JsonlWriter(rejects) as writer:
                for entry in removed:
                    writer.write(entry)
        verdicts = Counter(r["meta"]["review"]["verdict"] for r in kept)
        return {"written": written, "removed": len(removed), "unreviewed": verdicts.get("unreviewed", 0),
                "accepted": verdicts.get(ACCEPTED, 0), "edited": verdicts.get(EDITED, 0)}
