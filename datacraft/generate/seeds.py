"""Seed examples for generation: Alpaca JSON/JSONL, or Stanford Alpaca's `seed_tasks.jsonl` with `instances`."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from datacraft.errors import InputError
from datacraft.io.readers import iter_records
from datacraft.records import Drop, Record, record_format, to_form
from datacraft.textutil import language

FEW_SEEDS = 10  # below this, generations tend to copy the seeds' topics and phrasing


def seed_record(value: dict[str, Any]) -> Record:
    """An Alpaca record from a seed row; Stanford tasks use their first instance, as Alpaca's script does.

    >>> seed_record({"instruction": "Add", "instances": [{"input": "1, 2", "output": "3"}]})
    {'instruction': 'Add', 'input': '1, 2', 'output': '3'}
    """
    if record_format(value) != "alpaca":  # ShareGPT or OpenAI chat: the last exchange, earlier turns as history
        try:
            value = {**to_form(value, "alpaca"), **({"id": value["id"]} if "id" in value else {})}
        except Drop as drop:
            raise ValueError(drop.detail) from None
    if "instances" in value and "output" not in value:
        instances = value["instances"]
        first = instances[0] if isinstance(instances, list) and instances else None
        if not isinstance(first, dict):
            raise ValueError("`instances` must be a non-empty list of {input, output} objects")
        value = {"instruction": value.get("instruction"), "input": first.get("input", ""),
                 "output": first.get("output"), **({"id": value["id"]} if "id" in value else {})}
    record: Record = {}
    if "output" not in value and isinstance(value.get("chosen"), str):  # a preference record: its better answer
        value = {**value, "output": value["chosen"]}
    for field in ("instruction", "input", "output", "system", "history", "id"):
        if field in value and value[field] is not None:
            record[field] = value[field]
    record.setdefault("input", "")
    return record


def load_seeds(path: str, read_options: dict[str, Any] | None = None) -> list[Record]:
    """Read and check seed examples; a bad one is an InputError naming its line."""
    from datacraft.validate import validate_record

    seeds: list[Record] = []
    stem = Path(path).stem
    for row in iter_records(path, strict=True, **(read_options or {})):
        try:
            record = seed_record(row.value)
        except ValueError as exc:
            raise InputError(path, f"bad seed: {exc}", row.line) from None
        issues = validate_record({k: v for k, v in record.items() if k != "id"})
        if issues:
            issue = issues[0]
            raise InputError(path, f"bad seed: {issue.field}: {issue.message}", row.line)
        record.setdefault("id", f"{stem}:{row.line}")
        record["id"] = str(record["id"])
        seeds.append(record)
    if not seeds:
        raise InputError(path, "no seed examples found; write a few Alpaca records (instruction, input, output)")
    return seeds


def seed_warnings(seeds: list[Record], examples: bool = True) -> list[str]:
    """Advice about a seed set: too few seeds (when they are style examples), duplicated ones."""
    warnings = []
    if examples and len(seeds) < FEW_SEEDS:
        warnings.append(f"only {len(seeds)} seed examples: with fewer than {FEW_SEEDS}, generations tend to "
                        "copy the seeds' topics; write a few more varied ones")
    repeated = [text for text, n in Counter(s["instruction"].strip() for s in seeds).items() if n > 1]
    if repeated:
        warnings.append(f"{len(repeated)} seed instruction(s) appear more than once, e.g. {repeated[0][:60]!r}")
    return warnings


def seeds_language(seeds: list[Record]) -> str:
    """"zh" when most seeds are Chinese, else "en" (the two prompt languages).

    >>> seeds_language([{"instruction": "解释一下", "output": "好的"}, {"instruction": "Hi", "output": "Hello"},
    ...                 {"instruction": "翻译", "output": "译文"}])
    'zh'
    """
    votes = Counter(language(f"{s.get('instruction', '')} {s.get('output', '')}") for s in seeds)
    return "zh" if votes["zh"] > sum(votes.values()) / 2 else "en"


def content_version(items: list[Any]) -> str:
    """A short hash naming a set of seeds or feedback entries, for manifests and item provenance.

    >>> content_version([{"a": 1}]) == content_version([{"a": 1}]), len(content_version([]))
    (True, 12)
    """
    data = orjson.dumps(items, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()[:12]
