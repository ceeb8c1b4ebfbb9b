"""Turn a model's reply into candidate records, tolerating what models actually send.

Handles code fences, chatter before and after the JSON, trailing commas, `{"items": [...]}` or a
bare list or JSON Lines, field-name variants (question/answer, 指令/输出), and replies cut off by the
length limit (the complete items are kept, the broken tail is reported). Never raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_LIST_KEYS = ("items", "examples", "data", "tasks", "instructions", "questions", "qa_pairs", "pairs", "results")
_ALIASES = {
    "instruction": ("instruction", "question", "prompt", "query", "task", "指令", "问题", "指示"),
    "input": ("input", "context", "输入", "上下文"),
    "output": ("output", "answer", "response", "completion", "回答", "答案", "输出", "回复"),
    "system": ("system",),
}
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


def _candidates(text: str) -> list[str]:
    """Fenced blocks that hold JSON first (a cut-off reply may lack the closing fence), then the whole text."""
    blocks = [m.group(1) for m in _FENCE.finditer(text) if "{" in m.group(1) or "[" in m.group(1)]
    return [*blocks, text]


def _unwrap(value: Any) -> list[Any] | None:
    """The list of items inside a decoded reply, or None if it holds none."""
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return None
    if any(key in value for aliases in _ALIASES.values() for key in aliases if key != "system"):
        return [value]
    for key in _LIST_KEYS:
        if isinstance(value.get(key), list):
            return value[key]
    lists = [v for v in value.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    return lists[0] if len(lists) == 1 else None


def json_objects(text: str) -> Iterator[tuple[Any, int, int]]:
    """(value, start, end) for every `{` in `text` that starts a complete JSON value, in order.

    >>> [v for v, _, _ in json_objects('chatter {"a": {"b": 1}} {broken')]
    [{'a': {'b': 1}}, {'b': 1}]
    """
    position = text.find("{")
    while position != -1:
        try:
            value, end = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError:
            pass
        else:
            yield value, position, end
        position = text.find("{", position + 1)


def _salvage(text: str) -> list[dict[str, Any]]:
    """Every complete JSON object that looks like an item, in order (for cut-off or malformed replies)."""
    found: list[dict[str, Any]] = []
    inside = 0  # end of the last item taken: objects nested in it are not items of their own
    for value, start, end in json_objects(text):
        if start >= inside and isinstance(value, dict) and _unwrap(value) == [value]:
            found.append(value)
            inside = end
    return found


def parse_items(text: str | None, finish_reason: str = "stop") -> ParsedReply:
    """Candidate items (raw JSON values) from a reply; see the module docstring.

    >>> parse_items('Sure!\\n```json\\n{"items": [{"instruction": "a", "output": "b"},]}\\n```').items
    [{'instruction': 'a', 'output': 'b'}]
    >>> parse_items('[{"instruction": "a", "output": "b"}, {"instruction": "c", "out', "length").partial
    True
    """
    if not text or not text.strip():
        return ParsedReply(reason="empty_reply", error="the reply was empty")
    problem: tuple[str, str] | None = None  # (reason, detail) of the first candidate that failed
    for candidate in _candidates(text):
        fixed = drop_trailing_commas(candidate)
        start = min((i for i in (fixed.find("["), fixed.find("{")) if i != -1), default=-1)
        if start == -1:
            continue
        try:
            value, _ = _DECODER.raw_decode(fixed, start)
        except json.JSONDecodeError as exc:
            problem = problem or ("invalid_json", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        else:
            items = _unwrap(value)
            if items is not None and items != [value]:
                return ParsedReply(items=items)
            loose = _salvage(fixed[start:])  # one object, or JSON Lines: every item-like object
            if loose:
                return ParsedReply(items=loose)
            problem = problem or ("no_items", "the JSON holds no list of items")
            continue
        salvaged = _salvage(fixed[start:])
        if salvaged:
            return ParsedReply(items=salvaged, partial=True)
    if problem is None:
        return ParsedReply(reason="no_json", error="no JSON in the reply")
    if finish_reason == "length":
        return ParsedReply(reason="truncated_reply", error=f"the reply was cut off by the length limit ({problem[1]})")
    return ParsedReply(reason=problem[0], error=problem[1])


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
    return record, ""
