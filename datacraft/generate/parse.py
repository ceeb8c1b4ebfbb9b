"""Turn a model's reply into candidate records, tolerating what models actually send.

The parser is structural: it finds the outermost JSON values in the reply (a value nested in
another is part of it, so a Python list in a code answer, `print(sorted([3, 1, 2]))`, is never
mistaken for the items) and takes the one that matches the item schema: `{"items": [...]}`, a bare
list of items, or item objects one after another (JSON Lines). A `<think>` block is dropped only
where it opens the reply and a code fence only where it wraps the whole reply, so reasoning drafts
never pass as items and fences inside answers stay. It tolerates chatter around the JSON, trailing
commas, field-name variants (question/answer, 指令/输出), and replies cut off by the length limit
(the complete items are kept, the broken tail is reported). Never raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_THINK = re.compile(r"\A\s*<(think|thinking|reasoning)>.*?(?:</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE_OPEN = re.compile(r"\A```[a-zA-Z0-9_-]*[ \t]*\n")
_START = re.compile(r"[\[{]")
_SPECIAL = re.compile(r'["\\\[\]{}]')
_LOOKS_LIKE_JSON = re.compile(r'[\[{]\s*(?:["{\[]|\Z)')
_LIST_KEYS = ("items", "examples", "data", "tasks", "instructions", "questions", "qa_pairs", "pairs", "results")
_ALIASES = {
    "instruction": ("instruction", "question", "prompt", "query", "task", "指令", "问题", "指示"),
    "input": ("input", "context", "输入", "上下文"),
    "output": ("output", "answer", "response", "completion", "回答", "答案", "输出", "回复"),
    "system": ("system",),
}
_ITEM_KEYS = frozenset(a for target in ("instruction", "output") for a in _ALIASES[target])
_DECODER = json.JSONDecoder()


@dataclass
class ParsedReply:
    """Items found in a reply; `error`/`reason` say why a reply gave nothing usable."""

    items: list[Any] = field(default_factory=list)
    reason: str | None = None  # snake_case: empty_reply, no_json, invalid_json, no_items, truncated_reply
    error: str | None = None  # human detail for the reason
    partial: bool = False  # part of the reply (a cut-off or malformed item) could not be read

    @property
    def ok(self) -> bool:
        return bool(self.items)


def drop_trailing_commas(text: str) -> str:
    """Remove commas before `]` or `}` outside strings.

    >>> drop_trailing_commas('{"a": [1, 2,], "b": "x,]",}')
    '{"a": [1, 2], "b": "x,]"}'
    """
    out: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "]}":
            j = len(out) - 1
            while j >= 0 and out[j].isspace():
                j -= 1
            if j >= 0 and out[j] == ",":
                del out[j]
        out.append(ch)
    return "".join(out)


def strip_wrappers(text: str) -> str:
    """Drop a `<think>` block that opens the reply, and a code fence that wraps all of it.

    >>> strip_wrappers('<think>try {"a": 1}</think>\\n```json\\n{"b": 2}\\n```')
    '{"b": 2}'
    """
    text = _THINK.sub("", text, count=1).strip()
    opened = _FENCE_OPEN.match(text)
    if opened and (text.endswith("```") or "```" not in text[opened.end():]):  # cut off: no closing fence
        inner = text[opened.end():]
        text = inner[:-3] if inner.endswith("```") else inner
    return text.strip()


def _closing(text: str, start: int) -> int | None:
    """The index after the bracket that closes the one at `start` (string-aware), None if it never closes."""
    depth, in_string, position = 0, False, start
    while True:
        match = _SPECIAL.search(text, position)
        if match is None:
            return None
        ch, position = match.group(), match.end()
        if in_string:
            if ch == "\\":
                position += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return position


def _decode_at(text: str, start: int) -> tuple[Any, int] | str:
    """(value, end) for the JSON value at `start` (trailing commas forgiven), else the decoder's complaint."""
    try:
        return _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    end = _closing(text, start)
    if end is None:
        return problem
    try:
        return json.loads(drop_trailing_commas(text[start:end])), end
    except json.JSONDecodeError:
        return problem


def json_values(text: str) -> Iterator[tuple[Any, int, int]]:
    """(value, start, end) for each outermost JSON value in `text`: values nested in one are skipped.

    >>> [v for v, _, _ in json_values('chatter {"a": {"b": [1]}} [2,] {broken')]
    [{'a': {'b': [1]}}, [2]]
    """
    yield from _scan(text)[0]


def _scan(text: str) -> tuple[list[tuple[Any, int, int]], list[tuple[int, str]]]:
    """The outermost JSON values, and (position, complaint) where something that looks like JSON did not decode."""
    values: list[tuple[Any, int, int]] = []
    failures: list[tuple[int, str]] = []
    position = 0
    while (match := _START.search(text, position)) is not None:
        start = match.start()
        decoded = _decode_at(text, start)
        if isinstance(decoded, str):
            if _LOOKS_LIKE_JSON.match(text, start):
                failures.append((start, decoded))
            position = start + 1
        else:
            values.append((decoded[0], start, decoded[1]))
            position = decoded[1]
    return values, failures


def json_objects(text: str) -> Iterator[tuple[Any, int, int]]:
    """(value, start, end) for each outermost JSON object in `text` (what the review judge reads)."""
    for value, start, end in json_values(text):
        if isinstance(value, dict):
            yield value, start, end


def _item_like(value: Any) -> bool:
    return isinstance(value, dict) and any(str(k).strip().lower() in _ITEM_KEYS for k in value)


def _container(value: Any) -> list[Any] | None:
    """The items list a value holds (a list of items, or an object wrapping one), else None."""
    if isinstance(value, list):
        return value if any(_item_like(v) for v in value) else None
    if not isinstance(value, dict) or _item_like(value):
        return None
    for key in _LIST_KEYS:
        if isinstance(value.get(key), list) and (not value[key] or any(_item_like(v) for v in value[key])):
            return value[key]
    lists = [v for v in value.values() if isinstance(v, list) and any(_item_like(x) for x in v)]
    return lists[0] if len(lists) == 1 else None


def parse_items(text: str | None, finish_reason: str = "stop") -> ParsedReply:
    """Candidate items (raw JSON values) from a reply; see the module docstring.

    >>> parse_items('Sure!\\n```json\\n{"items": [{"instruction": "a", "output": "b"},]}\\n```').items
    [{'instruction': 'a', 'output': 'b'}]
    >>> parse_items('[{"instruction": "a", "output": "b"}, {"instruction": "c", "out', "length").partial
    True
    """
    if not text or not text.strip():
        return ParsedReply(reason="empty_reply", error="the reply was empty")
    body = strip_wrappers(text)
    values, failures = _scan(body)
    containers = [found for value, _, _ in values if (found := _container(value)) is not None]
    if containers:  # the fullest list of items; the last one on a tie (a final answer after a draft)
        best = max(reversed(containers), key=lambda items: sum(map(_item_like, items)))
        if best:
            return ParsedReply(items=best)
        return ParsedReply(reason="no_items", error="the reply's list of items is empty")
    loose = [value for value, _, _ in values if _item_like(value)]  # one item, JSON Lines, or a cut-off list
    if loose:
        return ParsedReply(items=loose, partial=bool(failures))
    if not body:
        return ParsedReply(reason="no_json", error="the reply held only reasoning, no answer")
    if finish_reason == "length" and (failures or not values):
        detail = failures[0][1] if failures else "no JSON"
        return ParsedReply(reason="truncated_reply", error=f"the reply was cut off by the length limit ({detail})")
    if failures:
        return ParsedReply(reason="invalid_json", error=failures[0][1])
    if values:
        return ParsedReply(reason="no_items", error="the JSON holds no list of items")
    return ParsedReply(reason="no_json", error="no JSON in the reply")


def to_record(item: Any) -> tuple[dict[str, Any] | None, str]:
    """An Alpaca record from one parsed item (field-name variants mapped), or (None, why not).

    >>> to_record({"Question": "Why?", "Answer": "Because."})
    ({'instruction': 'Why?', 'input': '', 'output': 'Because.'}, '')
    """
    if not isinstance(item, dict):
        return None, f"item is a {type(item).__name__}, not an object"
    lowered = {str(k).strip().lower(): v for k, v in item.items()}
    record: dict[str, Any] = {}
    for target, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lowered and lowered[alias] is not None:
                record[target] = lowered[alias]
                break
        else:
            if target == "input":
                record["input"] = ""
    for key, value in record.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            record[key] = str(value)  # a numeric answer ("42") is still an answer
    if lowered.get("history"):  # earlier turns, as seeds with history show them: kept (and validated), not lost
        record["history"] = lowered["history"]
    return record, ""
