"""Planting eval items in training data (verbatim, edited, reworded, translated), for tests and bench/."""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from pathlib import Path

from datacraft.llm import LLMClient
from datacraft.llm.config import resolve_llm_config
from tests.decontam.decontam_server import TRANSLATIONS, DecontamLLM

FIXTURES = Path(__file__).parent.parent / "fixtures" / "decontam"
EVAL_EN, EVAL_ZH = FIXTURES / "eval_en.jsonl", FIXTURES / "eval_zh.jsonl"


def _items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def light_edit(text: str) -> str:
    """Lower case, no punctuation, one word in the middle replaced."""
    words = re.sub(r"[^\w\s]", "", text).lower().split()
    words[len(words) // 2] = "exactly"
    return " ".join(words)


def heavy_edit(text: str) -> str:
    """Every sixth word replaced: no run of 8 words survives."""
    words = text.split()
    return " ".join("some" if i % 6 == 5 else w for i, w in enumerate(words))


async def _reword(url: str, texts: list[str]) -> list[str]:
    config = resolve_llm_config(base_url=url, model="fake", use_cache=False)
    async with LLMClient(config) as client:
        replies = await asyncio.gather(*(client.complete([{"role": "user", "content": "REWORD: " + t}]) for t in texts))
    return [r.text for r in replies]


def plant(tmp: Path, server: DecontamLLM) -> tuple[Path, dict[str, str]]:
    """Training file = clean records + planted eval items; returns it and record id -> kind."""
    en, zh = _items(EVAL_EN), _items(EVAL_ZH)
    reworded = asyncio.run(_reword(server.url, [en[5]["instruction"], en[6]["instruction"]]))
    planted = [
        ("verbatim", en[0]["instruction"]), ("verbatim", en[1]["instruction"]), ("verbatim", zh[2]["instruction"]),
        ("light_edit", light_edit(en[2]["instruction"])), ("light_edit", light_edit(en[3]["instruction"])),
        ("heavy_edit", heavy_edit(en[4]["instruction"])),
        ("paraphrase", reworded[0]), ("paraphrase", reworded[1]),
        ("translated_en_zh", TRANSLATIONS[en[7]["instruction"]]),
        ("translated_zh_en", TRANSLATIONS[zh[0]["instruction"]]), ("translated_zh_en", TRANSLATIONS[zh[1]["instruction"]]),
    ]
    kinds: dict[str, str] = {}
    rows = []
    for number, line in enumerate((FIXTURES / "train_clean.jsonl").read_text(encoding="utf-8").splitlines()):
        record = json.loads(line) | {"id": f"clean-{number}"}
        kinds[record["id"]] = "clean"
        rows.append(record)
    for number, (kind, text) in enumerate(planted):
        rid = f"plant-{number}"
        kinds[rid] = kind
        rows.append({"id": rid, "instruction": text, "input": "", "output": "Let us work it out step by step."})
    path = tmp / "train.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path, kinds


def detection(result_rejects: Path, kinds: dict[str, str]) -> dict[str, str]:
    """Per kind: 'caught/planted' (for clean records: dropped/total, i.e. false positives)."""
    dropped = {json.loads(line)["record"]["id"] for line in result_rejects.read_text(encoding="utf-8").splitlines()}
    totals, caught = defaultdict(int), defaultdict(int)
    for rid, kind in kinds.items():
        totals[kind] += 1
        caught[kind] += rid in dropped
    return {kind: f"{caught[kind]}/{totals[kind]}" for kind in totals}
