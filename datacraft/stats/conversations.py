"""What the conversations of a dataset look like: kinds, turns, per-role turns, tool calls, preference and KTO balance.

Everything is read from the record model's canonical view (`datacraft.records.conversation`), so a
record counts the same whichever form (Alpaca, ShareGPT, OpenAI) it was written in.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from datacraft.records import ASSISTANT, FUNCTION, OBSERVATION, USER, Conversation

KINDS = ("sft", "preference", "kto")
# Length rows measured per turn, by role; chosen/rejected are a preference record's two answers.
ROLE_FIELDS = {USER: "user", ASSISTANT: "assistant", FUNCTION: "tool_call", OBSERVATION: "observation"}
TURN_FIELDS = (*ROLE_FIELDS.values(), "chosen", "rejected")
SHOWN_TURN_COUNTS = 8  # up to this many distinct turn counts are listed one by one, more in ranges


def kind(chat: Conversation) -> str:
    """What a record trains: "preference" (chosen/rejected), "kto" (an answer with kto_tag) or "sft".

    >>> kind(Conversation([("user", "Hi")], chosen=("assistant", "Hello"), rejected=("assistant", "Go")))
    'preference'
    """
    if chat.chosen is not None:
        return "preference"
    return "sft" if chat.kto_tag is None else "kto"


def tool_calls(text: str) -> int:
    """How many calls one tool-call turn makes: LLaMA-Factory writes several as a JSON list.

    >>> tool_calls('{"name": "f", "arguments": {}}'), tool_calls('[{"name": "f"}, {"name": "g"}]'), tool_calls("f(1)")
    (1, 2, 1)
    """
    if not text.lstrip().startswith("["):
        return 1
    try:
        calls = json.loads(text)
    except ValueError:
        return 1
    return len(calls) if isinstance(calls, list) else 1


def turn_texts(chat: Conversation) -> list[tuple[str, str]]:
    """(length row, text) for every turn of a conversation, and a preference record's two answers.

    >>> turn_texts(Conversation([("user", "Hi"), ("function", "{}"), ("assistant", "Yo")]))
    [('user', 'Hi'), ('tool_call', '{}'), ('assistant', 'Yo')]
    """
    out = [(ROLE_FIELDS[role], text) for role, text in chat.turns if role in ROLE_FIELDS]
    if chat.chosen is not None and chat.rejected is not None:
        out += [("chosen", chat.chosen[1]), ("rejected", chat.rejected[1])]
    return out


class ConversationStats:
    """Counts over the canonical conversations of a dataset; `add` each record, then `result()`."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.turns: Counter[int] = Counter()
        self.tools = Counter({"records_with_tools": 0, "records_with_calls": 0, "calls": 0, "observations": 0})
        self.preference = Counter({"chosen_longer": 0, "rejected_longer": 0, "equal": 0})
        self.kto = Counter({"desirable": 0, "undesirable": 0})

    def add(self, chat: Conversation) -> None:
        """Count one record."""
        record_kind = kind(chat)
        self.kinds[record_kind] += 1
        # A preference record's answer is one turn, whichever of the two is trained on.
        self.turns[len(chat.turns) + (record_kind == "preference")] += 1
        calls = sum(tool_calls(text) for role, text in chat.turns if role == FUNCTION)
        self.tools["records_with_tools"] += bool(chat.tools)
        self.tools["records_with_calls"] += bool(calls)
        self.tools["calls"] += calls
        self.tools["observations"] += sum(role == OBSERVATION for role, _ in chat.turns)
        if record_kind == "preference":
            chosen, rejected = len(chat.chosen[1]), len(chat.rejected[1])
            self.preference["chosen_longer" if chosen > rejected else "rejected_longer" if rejected > chosen
                            else "equal"] += 1
        elif record_kind == "kto":
            self.kto["desirable" if chat.kto_tag else "undesirable"] += 1

    def result(self) -> dict[str, Any]:
        """The counts as plain JSON-ready dicts; `turns` lists [turns, records] pairs in order."""
        pairs = sum(self.preference.values())
        preference = {**self.preference, "pairs": pairs,
                      "chosen_longer_share": round(self.preference["chosen_longer"] / pairs, 4) if pairs else None}
        return {"kinds": {k: self.kinds[k] for k in KINDS if self.kinds[k]},
                "turns": [[t, c] for t, c in sorted(self.turns.items())],
                "tools": dict(self.tools), "preference": preference, "kto": dict(self.kto)}


def turn_buckets(turns: list[list[int]]) -> list[tuple[str, int]]:
    """Turn counts for reading: each count while there are few, else power-of-two ranges (3-4, 5-8, ...).

    >>> turn_buckets([[2, 90], [4, 8]])
    [('2', 90), ('4', 8)]
    >>> turn_buckets([[1, 1], [2, 5], [3, 1], [4, 2], [6, 1], [9, 1], [10, 1], [12, 1], [40, 1]])
    [('1', 1), ('2', 5), ('3-4', 3), ('5-8', 1), ('9-16', 3), ('33-64', 1)]
    """
    if len(turns) <= SHOWN_TURN_COUNTS:
        return [(str(t), c) for t, c in turns]
    buckets: dict[str, int] = {}
    for t, c in turns:
        high = 1 << max(t - 1, 0).bit_length()  # the power of two at or above t
        label = str(t) if t <= 2 else f"{high // 2 + 1}-{high}"
        buckets[label] = buckets.get(label, 0) + c
    return list(buckets.items())


def turns_line(turns: list[list[int]], summary: dict[str, Any]) -> str:
    """The turn-count distribution in one line, then p50/p90/max.

    >>> turns_line([[2, 90], [4, 8], [6, 2]], {"p50": 2, "p90": 4, "max": 6})
    '2: 90, 4: 8, 6: 2  (p50 2, p90 4, max 6)'
    """
    shown = ", ".join(f"{label}: {count}" for label, count in turn_buckets(turns))
    return shown + f"  (p50 {summary['p50']}, p90 {summary['p90']}, max {summary['max']})"
