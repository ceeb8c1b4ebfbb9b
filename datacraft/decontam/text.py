"""Which text of a record is compared: the prompt side (eval items) or everything (training records).

Works on every record layout datacraft reads, so an eval set in ShareGPT or OpenAI messages is
compared the same way as an Alpaca one: Alpaca fields and `history`, `messages` (role/content),
`conversations` (from/value) and preference pairs (`chosen`/`rejected`).
"""

from __future__ import annotations

from typing import Any

from datacraft.records import Record

_USER_ROLES = {"user", "human", "system"}


def _turns(record: Record) -> list[tuple[str, str]]:
    """(role, text) turns of a chat record; empty for Alpaca records."""
    for key, role_key, text_key in (("messages", "role", "content"), ("conversations", "from", "value")):
        turns = record.get(key)
        if isinstance(turns, list):
            return [(str(t.get(role_key, "")), t[text_key]) for t in turns
                    if isinstance(t, dict) and isinstance(t.get(text_key), str)]
    return []


def _answers(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in ("value", "content") and isinstance(v, str)]
    if isinstance(value, list):
        return [text for item in value for text in _answers(item)]
    return []


def prompt_text(record: Record) -> str:
    """The question side: instruction and input, or the user turns.

    >>> prompt_text({"instruction": "Add 2 and 3.", "input": "", "output": "5"})
    'Add 2 and 3.'
    >>> prompt_text({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})
    'Hi'
    """
    turns = _turns(record)
    if turns:
        return "\n".join(text for role, text in turns if role in _USER_ROLES and role != "system")
    parts = [record.get("instruction"), record.get("input")]
    return "\n".join(p for p in parts if isinstance(p, str) and p)


def all_text(record: Record) -> str:
    """Every prompt and answer of the record, history and preference answers included.

    >>> all_text({"instruction": "Q", "output": "A", "history": [["q0", "a0"]]})
    'q0\\na0\\nQ\\nA'
    """
    turns = _turns(record)
    if turns:
        parts = [text for _, text in turns]
    else:
        parts = [text for pair in record.get("history") or [] if isinstance(pair, (list, tuple))
                 for text in pair if isinstance(text, str)]
        parts += [p for p in (record.get("instruction"), record.get("input"), record.get("output"))
                  if isinstance(p, str)]
    for key in ("chosen", "rejected"):
        parts += _answers(record.get(key))
    return "\n".join(p for p in parts if p)


def prompt_parts(record: Record) -> list[str]:
    """Each user turn on its own, and the whole prompt: what a short eval item is compared with.

    >>> prompt_parts({"instruction": "Translate", "input": "你好"})
    ['Translate', '你好', 'Translate\\n你好']
    """
    turns = _turns(record)
    if turns:
        parts = [text for role, text in turns if role in _USER_ROLES and role != "system"]
    else:
        parts = [p for p in (record.get("instruction"), record.get("input")) if isinstance(p, str) and p]
    whole = prompt_text(record)
    return parts + ([whole] if whole and whole not in parts else [])
