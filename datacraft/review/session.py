"""A review session: decisions on generated records, appended to the feedback file as they are made.

Rejections and edits become feedback entries at once (a crash loses nothing the reviewer said);
the reviewed set (accepted and edited records) is written atomically at the end.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datacraft.errors import InputError
from datacraft.generate.feedback import append_feedback, load_feedback
from datacraft.io.readers import iter_records
from datacraft.io.writers import JsonlWriter, write_records
from datacraft.records import Record, training_view

ACCEPTED = "accepted"
REJECTED = "rejected"
EDITED = "edited"
UNSCORED = "unscored"  # the judge's reply could not be read: neither kept nor fed back


def load_for_review(path: str, sample: int | None = None, seed: int = 0,
                    read_options: dict[str, Any] | None = None) -> tuple[list[Record], int]:
    """(records to review, records in the file): all of them in order, or a seeded sample of `sample`."""
    records = []
    stem = "stdin" if path == "-" else Path(path).stem
    for row in iter_records(path, strict=True, **(read_options or {})):
        record = row.value
        record.setdefault("id", f"{stem}:{row.line}")
        records.append(record)
    if not records:
        raise InputError(path, "no records to review")
    total = len(records)
    if sample is not None and sample < total:
        picked = sorted(random.Random(seed).sample(range(total), sample))
        records = [records[i] for i in picked]
    return records, total


def _fields(record: Record) -> Record:
    return {k: v for k, v in training_view(record).items() if v not in ("", None)}


@dataclass
class ReviewSession:
    """Collects decisions; `reasons` offers the reasons used before (feedback file first, most used first)."""

    feedback_path: str
    reviewer: str = "human"
    decisions: list[tuple[str, Record, str]] = field(default_factory=list)  # (verdict, record, reason)
    reasons: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reasons = load_feedback(self.feedback_path, missing_ok=True).reasons()

    def _remember(self, reason: str) -> None:
        if reason and reason not in self.reasons:
            self.reasons.append(reason)

    def _reviewed(self, record: Record, verdict: str, extra: dict[str, Any] | None = None) -> Record:
        meta = dict(record.get("meta") or {})
        meta["review"] = {"verdict": verdict, "by": self.reviewer, **(extra or {})}
        return {**record, "meta": meta}

    def accept(self, record: Record, **extra: Any) -> None:
        self.decisions.append((ACCEPTED, self._reviewed(record, ACCEPTED, extra), ""))

    def reject(self, record: Record, reason: str, **extra: Any) -> None:
        """Reject with a reason: the record becomes a counter-example in the feedback file."""
        append_feedback(self.feedback_path, [{**_fields(record), "reason": reason, "id": record.get("id"),
                                               "source": self.reviewer, **extra}])
        self._remember(reason)
        self.decisions.append((REJECTED, record, reason))

    def edit(self, record: Record, edited: Record, reason: str = "") -> None:
        """Keep the corrected record; the original and the correction go to the feedback file."""
        fixed = {**{k: v for k, v in record.items() if k not in ("instruction", "input", "output")}, **edited}
        append_feedback(self.feedback_path, [{**_fields(record), "reason": reason or "corrected in review",
                                               "better": _fields(fixed), "id": record.get("id"), "source": self.reviewer}])
        self._remember(reason)
        self.decisions.append((EDITED, self._reviewed(fixed, EDITED), reason))

    def unscored(self, record: Record, detail: str) -> None:
        self.decisions.append((UNSCORED, record, detail))

    def counts(self) -> dict[str, int]:
        return dict(Counter(verdict for verdict, _, _ in self.decisions))

    def write(self, output: str, rejects: str | None = None) -> int:
        """Write the accepted and edited records (and optionally the rejected ones); returns how many kept."""
        kept = [record for verdict, record, _ in self.decisions if verdict in (ACCEPTED, EDITED)]
        count = write_records(output, kept)
        if rejects:
            code = {REJECTED: "judge_rejected" if self.reviewer == "judge" else "rejected_in_review",
                    UNSCORED: "judge_unreadable"}
            with JsonlWriter(rejects) as writer:
                for verdict, record, reason in self.decisions:
                    if verdict in code:
                        writer.write({"stage": "review", "reason": code[verdict], "detail": reason,
                                      "source": record.get("id"), "record": record})
        return count
