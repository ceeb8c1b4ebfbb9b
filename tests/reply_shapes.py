"""Model replies built around known records, in the shapes real models send (for the parser test and bench).

`replies(records)` puts the records, three to a reply, into each shape: plain JSON, fenced,
chatty with brackets in the chatter, a bare list with trailing commas, JSON Lines, opening
reasoning that drafts other items, Unicode escaped, and cut off by the length limit (its last item
lost). Each reply comes with the records a correct parser must return for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

FIELDS = ("instruction", "input", "output")


def _items(batch: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: r.get(k, "") for k in FIELDS} for r in batch]


def _cut(batch: list[dict[str, str]]) -> str:
    """The reply cut off half-way through its last item."""
    head = json.dumps({"items": batch[:-1]}, ensure_ascii=False, indent=2)[:-4]  # drop the closing "\n  ]\n}"
    last = json.dumps(batch[-1], ensure_ascii=False)
    return f"```json\n{head},\n    {last[:max(2, len(last) // 2)]}"


def shapes(batch: list[dict[str, str]]) -> Iterator[tuple[str, str, str, list[dict[str, str]]]]:
    """(shape, reply text, finish_reason, expected records) for one batch."""
    compact = json.dumps({"items": batch}, ensure_ascii=False)
    pretty = json.dumps({"items": batch}, ensure_ascii=False, indent=2)
    draft = json.dumps({"instruction": "draft task", "input": "", "output": "draft [1, 2] {x}"})
    yield "plain", compact, "stop", batch
    yield "fenced", f"```json\n{pretty}\n```", "stop", batch
    yield ("chatty", f"Sure! Here are {len(batch)} examples [as requested] for {{your}} dataset:\n\n```json\n{pretty}\n```"
           "\n\nLet me know if you need more (or fewer) [items].", "stop", batch)
    listed = json.dumps(batch, ensure_ascii=False, indent=2)
    yield "trailing_commas", listed.replace("\n  }", ",\n  }").replace("\n]", ",\n]"), "stop", batch
    yield "jsonl", "\n".join(json.dumps(item, ensure_ascii=False) for item in batch), "stop", batch
    yield ("reasoning", f"<think>\nThe user wants {len(batch)} items. A first try: {draft}\nMaybe a list like [1, 2, 3]."
           f"\n</think>\n\n{compact}", "stop", batch)
    yield "escaped", json.dumps({"items": batch}), "stop", batch
    if len(batch) > 1:
        yield "cut_off", _cut(batch), "length", batch[:-1]


def replies(records: list[dict[str, Any]], per_reply: int = 3) -> Iterator[tuple[str, str, str, list[dict[str, str]]]]:
    """Every record in every shape."""
    items = _items(records)
    for start in range(0, len(items), per_reply):
        yield from shapes(items[start:start + per_reply])


def misparses(records: list[dict[str, Any]], parse: Any, to_record: Any) -> tuple[int, list[tuple[str, str]]]:
    """(replies checked, [(shape, reply)] where the parser did not return exactly the expected records)."""
    wrong: list[tuple[str, str]] = []
    count = 0
    for shape, text, finish, expected in replies(records):
        count += 1
        parsed = parse(text, finish)
        got = [to_record(item)[0] for item in parsed.items]
        if got != expected or parsed.partial != (shape == "cut_off"):
            wrong.append((shape, text))
    return count, wrong
