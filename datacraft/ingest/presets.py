"""Presets: how a row of a common dataset layout becomes Alpaca records.

Each preset takes a row (a dict, after any `--map`) and returns the records it makes, or raises
`Reject` with a snake_case reason. Columns a preset does not use are kept in `meta.extra`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from datacraft.records import (
    BAD_HISTORY,
    BAD_TURN,
    BAD_TYPE,
    EMPTY_FIELD,
    ENDS_ON_USER,
    MISSING_FIELD,
    PREFERENCE_DATA,
    TURN_ORDER,
    UNCONVERTIBLE,
    Record,
)
from datacraft.stages import Reject

# preset(row, tool_turns=...) -> records
Preset = Callable[..., list[Record]]

_USER_ROLES = {"human": "user", "user": "user", "observation": "tool_result", "tool": "tool_result",
               "function": "tool_result", "ipython": "tool_result"}
_ASSISTANT_ROLES = {"gpt": "assistant", "assistant": "assistant", "bot": "assistant", "model": "assistant",
                    "chatgpt": "assistant", "function_call": "tool_call"}
_TOOL_HINT = ("Alpaca records cannot hold tool calls: keep this file in ShareGPT form, "
              "or pass --tool-turns inline to keep calls and results as plain turns")


def _text(value: Any, field: str) -> str:
    """A field as a string: numbers become text, None is empty, anything nested is rejected."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (int, float, bool)):
        return str(value)
    raise Reject(BAD_TYPE, f"{field} is a {type(value).__name__}, expected text")


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of `names` present in row, matching case-insensitively (Question, ANSWER...)."""
    for name in names:
        if name in row:
            return name
    lowered = {k.lower(): k for k in row if isinstance(k, str)}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _extras(row: dict[str, Any], used: set[str] | frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in used and k not in ("id", "meta")}


def _finish(record: Record, row: dict[str, Any], used: set[str] | frozenset[str],
            columns: tuple[str, str] = ("instruction", "output")) -> Record:
    for name, column in zip(("instruction", "output"), columns, strict=True):
        text = record[name]
        if not text or text.isspace():  # absent or null is missing; present but blank is empty
            raise Reject(MISSING_FIELD if row.get(column) is None else EMPTY_FIELD, f"no {name} text")
    # The subset test runs in C: most rows have no extra columns, and ingest must stream fast.
    if not row.keys() <= used:
        extra = _extras(row, used)
        if extra:
            record["meta"] = {"extra": extra}
    return record


_ALPACA_USED = frozenset({"instruction", "input", "output", "system", "history", "id", "meta"})


def alpaca(row: dict[str, Any], *, tool_turns: str = "reject") -> list[Record]:
    """instruction/input/output(/system/history) columns, as LLaMA-Factory's alpaca format."""
    instruction, input_, output = row.get("instruction"), row.get("input", ""), row.get("output")
    if type(instruction) is not str or type(input_) is not str or type(output) is not str:
        instruction, input_, output = (_text(instruction, "instruction"), _text(input_, "input"),
                                       _text(output, "output"))
    record: Record = {"instruction": instruction, "input": input_, "output": output}
    if row.get("system"):
        record["system"] = _text(row["system"], "system")
    history = row.get("history")
    if history:
        if not isinstance(history, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in history):
            raise Reject(BAD_HISTORY, "history must be a list of [instruction, output] pairs")
        record["history"] = [[_text(q, "history"), _text(a, "history")] for q, a in history]
    return [_finish(record, row, _ALPACA_USED)]


def _columns(instruction: tuple[str, ...], output: tuple[str, ...], context: tuple[str, ...]) -> Preset:
    # Rows of one file share their columns: which column is which is worked out once per column set.
    layouts: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def layout(row: dict[str, Any]) -> tuple[Any, ...]:
        key = tuple(row)
        found = layouts.get(key)
        if found is None:
            if len(layouts) > 1024:  # rows with ever-new columns: stop remembering
                layouts.clear()
            q, a, c, system = (_pick(row, instruction), _pick(row, output), _pick(row, context),
                               _pick(row, ("system",)))
            used = frozenset(x for x in (q, a, c, system, "id", "meta") if x)
            found = layouts[key] = (q, a, c, system, used)
        return found

    def preset(row: dict[str, Any], *, tool_turns: str = "reject") -> list[Record]:
        q, a, c, system, used = layout(row)
        if q is None or a is None:
            raise Reject(MISSING_FIELD, f"needs columns {instruction[0]!r} and {output[0]!r}; "
                         f"has {', '.join(map(str, row))}")
        record: Record = {"instruction": _text(row[q], q), "input": _text(row[c], c) if c else "",
                          "output": _text(row[a], a)}
        if system and row[system]:
            record["system"] = _text(row[system], system)
        return [_finish(record, row, used, (q, a))]

    return preset


qa = _columns(("question", "query", "q"), ("answer", "response", "a"), ("context",))
prompt_response = _columns(("prompt",), ("response", "completion", "chosen", "output"), ("input",))


def conversation(system: str, turns: list[tuple[str, str]], *, tool_turns: str = "reject") -> Record:
    """Alpaca record from (role, text) turns: the last exchange is instruction/output, earlier ones history.

    Roles are user, assistant, tool_call (said by the assistant) and tool_result (heard by it).

    >>> conversation("", [("user", "Hi"), ("assistant", "Hello"), ("user", "2+2?"), ("assistant", "4")])
    {'instruction': '2+2?', 'input': '', 'output': '4', 'history': [['Hi', 'Hello']]}
    """
    if any(role in ("tool_call", "tool_result") for role, _ in turns) and tool_turns == "reject":
        raise Reject(UNCONVERTIBLE, _TOOL_HINT)
    pairs: list[list[str]] = []
    for number, (role, text) in enumerate(turns, start=1):
        if not text.strip():
            raise Reject(EMPTY_FIELD, f"turn {number} ({role}) is empty")
        speaks_first = role in ("user", "tool_result")
        if speaks_first != (number % 2 == 1):
            expected = "a user" if number % 2 == 1 else "an assistant"
            raise Reject(TURN_ORDER, f"turn {number} is {role}, expected {expected} turn")
        if speaks_first:
            pairs.append([text, ""])
        else:
            pairs[-1][1] = text
    if not pairs:
        raise Reject(EMPTY_FIELD, "no turns")
    if len(turns) % 2:
        raise Reject(ENDS_ON_USER, "the conversation ends with a user turn (no answer to learn)")
    instruction, output = pairs.pop()
    record: Record = {"instruction": instruction, "input": "", "output": output}
    if system.strip():
        record["system"] = system
    if pairs:
        record["history"] = pairs
    return record


def _turns(messages: Any, role_key: str, text_key: str) -> tuple[str, list[tuple[str, str]]]:
    if not isinstance(messages, list) or not messages:
        raise Reject(EMPTY_FIELD if messages == [] else BAD_TYPE, "expected a non-empty list of turns")
    system, turns = "", []
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            raise Reject(BAD_TURN, f"turn {number} is not an object")
        role = str(message.get(role_key, message.get("role", message.get("from", "")))).lower()
        content = message.get(text_key, message.get("content", message.get("value")))
        if isinstance(content, list):  # OpenAI content parts
            if any(isinstance(p, dict) and p.get("type") not in (None, "text") for p in content):
                raise Reject("non_text_content", f"turn {number} holds non-text content")
            content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        if message.get("tool_calls"):  # an OpenAI assistant turn that calls tools
            role, content = "function_call", json.dumps(message["tool_calls"], ensure_ascii=False) if not content else content
        text = _text(content, f"turn {number}")
        if role == "system":
            system = text
        elif role in _USER_ROLES:
            turns.append((_USER_ROLES[role], text))
        elif role in _ASSISTANT_ROLES:
            turns.append((_ASSISTANT_ROLES[role], text))
        else:
            raise Reject(BAD_TURN, f"turn {number} has unknown role {role!r}")
    return system, turns


def _chat(key: str, role_key: str, text_key: str) -> Preset:
    def preset(row: dict[str, Any], *, tool_turns: str = "reject") -> list[Record]:
        if key not in row:
            raise Reject(MISSING_FIELD, f"no {key!r} column; has {', '.join(map(str, row))}")
        system, turns = _turns(row[key], role_key, text_key)
        if row.get("system"):
            system = _text(row["system"], "system")
        record = conversation(system, turns, tool_turns=tool_turns)
        used = {key, "system"}
        if any(role.startswith("tool") for role, _ in turns) and row.get("tools"):
            record.setdefault("meta", {})["tools"] = row["tools"]
        used.add("tools")  # a tool list means nothing to a record without tool turns
        extra = _extras(row, used)
        if extra:
            record.setdefault("meta", {})["extra"] = extra
        return [record]

    return preset


sharegpt = _chat("conversations", "from", "value")
openai = _chat("messages", "role", "content")


def stanford_alpaca(row: dict[str, Any], *, tool_turns: str = "reject") -> list[Record]:
    """Stanford Alpaca seed tasks: one instruction with `instances` of input/output, one record each."""
    instances = row.get("instances")
    if not isinstance(instances, list) or not instances:
        raise Reject(EMPTY_FIELD if instances == [] else MISSING_FIELD if instances is None else BAD_TYPE, "no instances")
    records = []
    for number, instance in enumerate(instances, start=1):
        if not isinstance(instance, dict):
            raise Reject(BAD_TYPE, f"instance {number} is not an object")
        record = alpaca({"instruction": row.get("instruction"), **instance})[0]
        record.pop("meta", None)
        records.append(record)
    extra = _extras(row, {"instruction", "instances"})
    for number, record in enumerate(records, start=1):
        if extra:
            record["meta"] = {"extra": extra}
        if len(records) > 1 and isinstance(row.get("id"), str):
            record["id"] = f"{row['id']}-{number}"
    return records


PRESETS: dict[str, Preset] = {
    "alpaca": alpaca, "qa": qa, "prompt-response": prompt_response, "sharegpt": sharegpt,
    "openai": openai, "stanford-alpaca": stanford_alpaca,
}


def detect_preset(row: dict[str, Any]) -> str:
    """Name the preset a row's columns call for.

    >>> detect_preset({"question": "q", "answer": "a"}), detect_preset({"conversations": []})
    ('qa', 'sharegpt')
    """
    if "instances" in row and "instruction" in row:
        return "stanford-alpaca"
    if "conversations" in row:
        return "sharegpt"
    if "messages" in row:
        return "openai"
    if "instruction" in row or "output" in row:
        return "alpaca"
    if _pick(row, ("question", "query")) is not None:
        return "qa"
    if _pick(row, ("prompt",)) is not None:
        return "prompt-response"
    raise Reject("unknown_layout", f"columns {', '.join(map(str, row))} match no preset; "
                 "pass --map instruction=COLUMN --map output=COLUMN, or --preset")


def make_converter(preset: str = "auto", tool_turns: str = "reject") -> Callable[[dict[str, Any]], list[Record]]:
    """row -> records with the named preset, or with the one each row's columns call for ("auto")."""
    fixed = PRESETS[preset] if preset != "auto" else None
    detected: dict[tuple[Any, ...], Preset] = {}  # detection looks only at the columns: once per column set

    def convert(row: dict[str, Any]) -> list[Record]:
        if "chosen" in row and "rejected" in row:
            raise Reject(PREFERENCE_DATA, "a chosen/rejected pair is preference (DPO) data, not an SFT "
                         "example: keep it in its own file")
        chosen = fixed
        if chosen is None:
            key = tuple(row)
            chosen = detected.get(key)
            if chosen is None:
                if len(detected) > 1024:
                    detected.clear()
                chosen = detected[key] = PRESETS[detect_preset(row)]
        return chosen(row, tool_turns=tool_turns)

    return convert
