"""Preference pairs from the review log: a reviewer's edit is a free pair (the edit `chosen`, the original `rejected`).

Only edits that kept the prompt and changed the answer make a pair: when the reviewer rewrote the
instruction, input, system prompt or earlier turns, the original answer answered another prompt,
so it is no `rejected` answer to the new one. Those edits are counted by reason, never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from datacraft.generate.feedback import EDITED, load_feedback
from datacraft.io.writers import write_records
from datacraft.records import Record

PROMPT_FIELDS = ("system", "history", "instruction", "input")
PROMPT_EDITED = "prompt_edited"
ANSWER_UNCHANGED = "answer_unchanged"


def review_pairs(feedback: str) -> tuple[list[Record], Counter[str]]:
    """(preference records from the latest edit of each record, skipped edits by reason), in file order.

    Each pair keeps the original's prompt fields and id; `meta` names the reviewer and the reason given.
    """
    pairs: list[Record] = []
    skipped: Counter[str] = Counter()
    for entry in load_feedback(feedback).decisions().values():
        if entry.verdict != EDITED or not entry.better or entry.record is None:
            continue
        original, better = entry.record, entry.better
        if any((original.get(f) or None) != (better.get(f) or None) for f in PROMPT_FIELDS):
            skipped[PROMPT_EDITED] += 1
            continue
        if (better.get("output") or "").strip() == (original.get("output") or "").strip():
            skipped[ANSWER_UNCHANGED] += 1
            continue
        pair = {f: original[f] for f in PROMPT_FIELDS if original.get(f)}
        pair.setdefault("input", "")
        pairs.append({**pair, "chosen": better["output"], "rejected": original["output"], "id": entry.id,
                      "meta": {"source": "review", "kind": "preference", "reviewer": entry.source or "human",
                               "reason": entry.reason}})
    return pairs, skipped


def write_pairs(feedback: str, output: str) -> dict[str, Any]:
    """Write the review log's preference pairs to `output` (atomically); returns {written, skipped}."""
    pairs, skipped = review_pairs(feedback)
    return {"written": write_records(output, pairs), "skipped": dict(skipped.most_common())}
