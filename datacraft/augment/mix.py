"""Mixing (opt-in): new records built from parts of existing ones, only where that is safe.

- `concat`: two independent single-turn tasks of the same language and system prompt become one
  two-part task ("Task 1: ... Task 2: ..."), answered by both outputs in order. Records with
  history or tools, or whose instruction points outside itself ("the above", "上述", "继续"), are
  never paired: the combined task would not make sense.
- `system`: a record gets another system prompt of its language, from `mix.system_prompts` or,
  when that list is empty, from the distinct system prompts in the data. Only use it when those
  prompts are interchangeable personas: a prompt that sets rules ("answer in JSON") would
  contradict outputs written under another one.
Each mixed record's `meta.augmented_from` lists every record it was built from, so an export
keeps it on the same side of the split as all of them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from datacraft.augment.config import MixConfig
from datacraft.records import Record
from datacraft.textutil import language

_REFERS_OUTSIDE = re.compile(
    r"\b(?:above|previous|preceding|earlier|aforementioned|continue|as before|same as)\b|上述|上面|上文|前面|之前|刚才|继续|同上",
    re.IGNORECASE)
_CONCAT = {
    "zh": ("请依次完成下面两个任务。\n\n任务一：{a}\n\n任务二：{b}", "任务一：\n{a}\n\n任务二：\n{b}", "\n输入：{}"),
    "en": ("Complete the two tasks below, in order.\n\nTask 1: {a}\n\nTask 2: {b}", "Task 1:\n{a}\n\nTask 2:\n{b}", "\nInput: {}"),
}


@dataclass
class Mixed:
    """A mixed record (no id/meta yet), the ids it was built from, and the mode."""

    record: Record
    sources: list[str]
    mode: str


def record_language(record: Record) -> str:
    """zh, en or other, from the instruction and output."""
    return language(f"{record.get('instruction') or ''} {record.get('output') or ''}")


def _pairable(record: Record) -> bool:
    if record.get("history") or record.get("tools"):
        return False
    if not all(isinstance(record.get(f), str) and record[f].strip() for f in ("instruction", "output")):
        return False
    text = f"{record['instruction']} {record.get('input') or ''}"
    return not _REFERS_OUTSIDE.search(text)


def concat(a: Record, b: Record, lang: str) -> Record:
    """The two-part task made of `a` and `b`.

    >>> concat({"instruction": "Name a fruit.", "output": "Apple."}, {"instruction": "Say hi.", "output": "Hi!"}, "en")["output"]
    'Task 1:\\nApple.\\n\\nTask 2:\\nHi!'
    """
    task, answer, given = _CONCAT[lang]

    def part(record: Record) -> str:
        text = record["instruction"].strip()
        extra = str(record.get("input") or "").strip()
        return text + (given.format(extra) if extra else "")

    out: Record = {"instruction": task.format(a=part(a), b=part(b)), "input": "",
                   "output": answer.format(a=a["output"].strip(), b=b["output"].strip())}
    if a.get("system"):
        out["system"] = a["system"]
    return out


def mix_concat(records: list[Record], config: MixConfig, rng: random.Random) -> list[Mixed]:
    """About `ratio * len(records)` two-part tasks from disjoint pairs of this block."""
    wanted = round(config.ratio * len(records))
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, record in enumerate(records):
        lang = record_language(record)
        if lang in _CONCAT and _pairable(record):
            by_key.setdefault((lang, str(record.get("system") or "")), []).append(i)
    pool = [(key, i) for key, members in sorted(by_key.items()) for i in members]
    rng.shuffle(pool)
    used: set[int] = set()
    out: list[Mixed] = []
    for key, i in pool:
        if len(out) >= wanted:
            break
        if i in used:
            continue
        partners = [j for j in by_key[key] if j != i and j not in used]
        rng.shuffle(partners)
        for j in partners:
            combined = concat(records[i], records[j], key[0])
            if config.max_chars is None or sum(len(v) for v in combined.values()) <= config.max_chars:
                used.update((i, j))
                out.append(Mixed(combined, [str(records[i].get("id")), str(records[j].get("id"))], "concat"))
                break
    return out


def mix_system(records: list[Record], config: MixConfig, rng: random.Random) -> list[Mixed]:
    """About `ratio * len(records)` records given another system prompt of their language."""
    wanted = round(config.ratio * len(records))
    donors: dict[str, str | None] = {}  # prompt -> id of a record that uses it (None: from the config)
    for prompt in config.system_prompts:
        donors.setdefault(prompt, None)
    if not config.system_prompts:
        for record in records:
            if isinstance(record.get("system"), str) and record["system"].strip():
                donors.setdefault(record["system"], str(record.get("id")))
    prompts = sorted(donors)
    order = list(range(len(records)))
    rng.shuffle(order)
    out: list[Mixed] = []
    for i in order:
        if len(out) >= wanted:
            break
        record = records[i]
        lang = record_language(record)
        options = [p for p in prompts if p != record.get("system") and language(p) in (lang, "other")]
        if not options or record.get("tools"):
            continue
        prompt = rng.choice(options)
        sources = [str(record.get("id"))] + ([donors[prompt]] if donors[prompt] else [])
        out.append(Mixed({**{k: v for k, v in record.items() if k not in ("id", "meta")}, "system": prompt},
                         sources, "system"))
    return out


MODES = {"concat": mix_concat, "system": mix_system}
