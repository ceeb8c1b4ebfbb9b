"""Eval items planted in training data verbatim, edited, reworded and translated: what each mode catches.

The rewording and the cross-lingual/judge steps run against a real OpenAI-compatible server on
127.0.0.1 (tests/decontam/decontam_server.py). The table of detections per kind is printed
(`pytest -s`) and asserted exactly; docs/decontamination.md quotes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacraft.decontam import DecontamConfig, decontaminate_file
from datacraft.llm.config import resolve_llm_config
from tests.decontam.decontam_server import DecontamLLM
from tests.decontam.planting import EVAL_EN, EVAL_ZH, detection, plant

MODES = {
    "ngram_only": {"word_candidates": None},
    "default": {},
    "cross_lingual": {"cross_lingual": True},
    "cross_lingual+judge": {"cross_lingual": True, "judge": True},
}
EXPECTED = {
    "ngram_only": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "0/1", "paraphrase": "0/2",
                   "translated_en_zh": "0/1", "translated_zh_en": "0/2"},
    "default": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "1/1", "paraphrase": "1/2",
                "translated_en_zh": "0/1", "translated_zh_en": "0/2"},
    "cross_lingual": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "1/1", "paraphrase": "1/2",
                      "translated_en_zh": "1/1", "translated_zh_en": "2/2"},
    "cross_lingual+judge": {"clean": "0/12", "verbatim": "3/3", "light_edit": "2/2", "heavy_edit": "1/1",
                            "paraphrase": "2/2", "translated_en_zh": "1/1", "translated_zh_en": "2/2"},
}
ITEMS_FOUND = {"ngram_only": {"eval_en": 4, "eval_zh": 1}, "default": {"eval_en": 6, "eval_zh": 1},
               "cross_lingual": {"eval_en": 7, "eval_zh": 3}, "cross_lingual+judge": {"eval_en": 8, "eval_zh": 3}}


@pytest.mark.parametrize("mode", list(MODES))
def test_detection_per_kind(tmp_path: Path, llm_env: str, mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    with DecontamLLM() as server:
        train, kinds = plant(tmp_path, server)
        needs_llm = MODES[mode].get("cross_lingual") or MODES[mode].get("judge")
        llm = resolve_llm_config(base_url=server.url, model="fake") if needs_llm else None
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


def _borderline_run(tmp_path: Path, script: list | None = None) -> tuple[dict, list[str]]:
    item = json.loads(EVAL_EN.read_text(encoding="utf-8").splitlines()[0])["instruction"]
    opening = item.split(" On Saturday")[0]  # 15 of the item's 36 tokens: a borderline candidate
    rows = [{"id": "near", "instruction": opening + " How much flour does she need for a whole week?", "output": "x"},
            {"id": "far", "instruction": "List three birds.", "output": "Robin, wren, owl."}]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with DecontamLLM() as server:
        server.script = list(script or [])
        llm = resolve_llm_config(base_url=server.url, model="fake", use_cache=False)
        result = decontaminate_file([str(train)], str(tmp_path / "out.jsonl"), against=[str(EVAL_EN)],
                                    config=DecontamConfig(judge=True), llm=llm)
        kinds = list(server.kinds)
    return result, kinds


def test_judge_no_and_unreadable_keep_the_record(tmp_path: Path, llm_env: str) -> None:
    from fakellm import Reply

    result, kinds = _borderline_run(tmp_path)
    assert kinds == ["judge"]  # only the borderline record is asked about
    assert result["report"]["judge"] == {"different": 1} and result["kept"] == 2
    result, _ = _borderline_run(tmp_path, [Reply("Hmm, hard to say.")])
    assert result["report"]["judge"] == {"unreadable": 1} and result["kept"] == 2


def test_rerun_on_the_output_drops_nothing(tmp_path: Path, llm_env: str) -> None:
    with DecontamLLM() as server:
        train, _ = plant(tmp_path, server)
    first = decontaminate_file([str(train)], str(tmp_path / "once.jsonl"), against=[str(EVAL_EN), str(EVAL_ZH)])
    again = decontaminate_file([str(tmp_path / "once.jsonl")], str(tmp_path / "twice.jsonl"),
                               against=[str(EVAL_EN), str(EVAL_ZH)])
    assert first["rejected"] > 0 and again["rejected"] == 0
    assert (tmp_path / "once.jsonl").read_bytes() == (tmp_path / "twice.jsonl").read_bytes()
