"""Eval items planted in training data verbatim, edited, reworded and translated: what each mode catches.

The rewording and the cross-lingual/judge steps run against a real OpenAI-compatible server on
127.0.0.1 (tests/decontam/decontam_server.py). The table of detections per kind is printed
(`pytest -s`) and asserted exactly; docs/decontamination.md quotes it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from datacraft.decontam import DecontamConfig, decontaminate_file
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


MODES = {
    "default": {},
    "cross_lingual": {"cross_lingual": True},
    "cross_lingual+judge": {"cross_lingual": True, "judge": True},
}
EXPECTED = {
    "default": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "0/1", "paraphrase": "0/2",
                "translated_en_zh": "0/1", "translated_zh_en": "0/2"},
    "cross_lingual": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "0/1", "paraphrase": "0/2",
                      "translated_en_zh": "1/1", "translated_zh_en": "2/2"},
    "cross_lingual+judge": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "1/1",
                            "paraphrase": "2/2", "translated_en_zh": "1/1", "translated_zh_en": "2/2"},
}

ITEMS_FOUND = {"default": {"eval_en": 4, "eval_zh": 1}, "cross_lingual": {"eval_en": 5, "eval_zh": 3},
               "cross_lingual+judge": {"eval_en": 8, "eval_zh": 3}}


@pytest.mark.parametrize("mode", list(MODES))
def test_detection_per_kind(tmp_path: Path, llm_env: str, mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    with DecontamLLM() as server:
        train, kinds = plant(tmp_path, server)
        llm = resolve_llm_config(base_url=server.url, model="fake") if MODES[mode] else None
        result = decontaminate_file([str(train)], str(tmp_path / "out.jsonl"), against=[str(EVAL_EN), str(EVAL_ZH)],
                                    rejects=str(tmp_path / "rejects.jsonl"), report=str(tmp_path / "report.json"),
                                    config=DecontamConfig(**MODES[mode]), llm=llm)
    found = detection(tmp_path / "rejects.jsonl", kinds)
    with capsys.disabled():
        print(f"\n{mode:>20}: " + "  ".join(f"{k} {v}" for k, v in found.items()))
    assert found == EXPECTED[mode]
    assert result["kept"] + result["rejected"] == result["read"] == len(kinds)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["benchmarks"]["eval_en"]["items"] == 8 and report["benchmarks"]["eval_zh"]["items"] == 3
    found_items = {name: bench["contaminated_items"] for name, bench in report["benchmarks"].items()}
    assert found_items == ITEMS_FOUND[mode]
    assert report["benchmarks"]["eval_zh"]["contamination_rate"] == round(found_items["eval_zh"] / 3, 4)


def test_rejects_name_item_and_span(tmp_path: Path, llm_env: str) -> None:
    with DecontamLLM() as server:
        train, _ = plant(tmp_path, server)
        decontaminate_file([str(train)], str(tmp_path / "out.jsonl"), against=[str(EVAL_EN)],
                           rejects=str(tmp_path / "rejects.jsonl"))
    rejects = {json.loads(line)["record"]["id"]: json.loads(line)
               for line in (tmp_path / "rejects.jsonl").read_text().splitlines()}
    verbatim = rejects["plant-0"]
    assert verbatim["stage"] == "decontaminate" and verbatim["reason"] == "eval_overlap"
    assert verbatim["benchmark"] == "eval_en" and verbatim["eval_id"] == "math-1"
    assert verbatim["matched_fraction"] == 1.0
    assert verbatim["span"].startswith("a baker makes 48 muffins every morning")
    edited = rejects["plant-3"]
    assert edited["eval_id"] == "math-3" and 0.9 < edited["matched_fraction"] < 1.0


def test_translation_is_done_once_and_cached(tmp_path: Path, llm_env: str) -> None:
    with DecontamLLM() as server:
        train, _ = plant(tmp_path, server)
        llm = resolve_llm_config(base_url=server.url, model="fake", cache=str(tmp_path / "cache.sqlite"))
        config = DecontamConfig(cross_lingual=True)
        for _ in range(2):
            decontaminate_file([str(train)], str(tmp_path / "out.jsonl"), against=[str(EVAL_EN), str(EVAL_ZH)],
                               config=config, llm=llm)
        translate_requests = server.kinds.count("translate")
    # 8 English items -> zh and 3 Chinese items -> en, 8 per batch: one request each; the second run is all cached
    assert translate_requests == 2
