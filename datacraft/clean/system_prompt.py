"""A dataset-wide system prompt: set it, or prepend it to the one a record has, on any record layout.

Steering the answer language of a model trained mostly on English (e.g. "请输出中文" for a Chinese
set on Llama 3) is the usual reason. Alpaca and ShareGPT records keep it in `system`; a chat
record whose first turn is a system turn gets that turn edited instead, so the record never ends
up with two system prompts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from datacraft.records import Record

Mode = Literal["set", "prepend"]
_TURNS = (("messages", "role", "content"), ("conversations", "from", "value"))


def _system_turn(record: Record) -> tuple[dict, str] | None:
    """The leading system turn of a chat record and its text key, if there is one."""
    for key, role_key, text_key in _TURNS:
        turns = record.get(key)
        if isinstance(turns, list) and turns and isinstance(turns[0], dict) and turns[0].get(role_key) == "system":
            return turns[0], text_key
    return None


def current_system(record: Record) -> str:
    """The record's system prompt ("" when it has none).

    >>> current_system({"messages": [{"role": "system", "content": "Be brief"}]}), current_system({"instruction": "x"})
    ('Be brief', '')
    """
    turn = _system_turn(record)
    value = turn[0].get(turn[1]) if turn else record.get("system")
    return value if isinstance(value, str) else ""


def with_system(record: Record, prompt: str, *, mode: Mode = "set", if_missing: bool = False,
                separator: str = "\n") -> Record:
    """A copy of `record` with `prompt` as its system prompt (or before it, with mode="prepend").

    With `if_missing`, a record that already has a system prompt comes back unchanged.

    >>> with_system({"instruction": "你好", "output": "你好！"}, "请输出中文")["system"]
    '请输出中文'
    >>> with_system({"instruction": "q", "output": "a", "system": "Be brief"}, "请输出中文", mode="prepend")["system"]
    '请输出中文\\nBe brief'
    >>> with_system({"instruction": "q", "output": "a", "system": "Be brief"}, "请输出中文", if_missing=True)["system"]
    'Be brief'
    """
    existing = current_system(record)
    if if_missing and existing.strip():
        return record
    text = f"{prompt}{separator}{existing}" if mode == "prepend" and existing else prompt
    out = dict(record)
    turn = _system_turn(record)
    if turn is not None:
        key = next(k for k, role_key, _ in _TURNS if isinstance(record.get(k), list) and record[k]
                   and isinstance(record[k][0], dict) and record[k][0].get(role_key) == "system")
        out[key] = [{**turn[0], turn[1]: text}, *record[key][1:]]
    else:
        out["system"] = text
    return out


def system_prompt_step(prompt: str | None, *, mode: Mode = "set", if_missing: bool = False) -> Callable[[Record], Record] | None:
    """The per-record transform for a command's --system option, or None when no prompt is given."""
    if prompt is None:
        return None
    return lambda record: with_system(record, prompt, mode=mode, if_missing=if_missing)
