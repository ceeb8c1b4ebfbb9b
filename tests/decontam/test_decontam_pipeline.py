"""`decontaminate` as a stage of `datacraft run`: records that copy an eval item are rejected, totals balance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from datacraft.pipeline import run_pipeline

FIXTURES = Path(__file__).parent.parent / "fixtures" / "decontam"


def test_pipeline_stage_drops_copies_and_balances(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "eval_en.jsonl", tmp_path / "bench.jsonl")
    rows = [json.loads(line) for line in (FIXTURES / "train_clean.jsonl").read_text(encoding="utf-8").splitlines()]
    item = json.loads((FIXTURES / "eval_en.jsonl").read_text().splitlines()[4])
    rows.append({"instruction": item["instruction"], "input": "", "output": "225 passengers."})
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(
        "inputs:\n  - path: in.jsonl\nstages:\n  - decontaminate:\n      against: [bench.jsonl]\n      threshold: 0.6\n"
        "      report: contamination.json\n",
        encoding="utf-8")
    manifest = run_pipeline(str(tmp_path / "pipeline.yaml"))
    stage = manifest["stages"][1]
    assert stage["stage"] == "decontaminate"
    assert stage["counts"]["read"] == 13 and stage["counts"]["kept"] == 12 and stage["counts"]["rejected"] == 1
    assert manifest["totals"] == {"read": 13, "kept": 12, "rejected": 1, "balanced": True}
    rejected = json.loads((tmp_path / "out" / stage["outputs"]["rejects"]["path"]).read_text())
    assert rejected["eval_id"] == "math-5" and rejected["reason"] == "eval_overlap"
    report = json.loads((tmp_path / "contamination.json").read_text())
    assert report["benchmarks"]["bench"]["contaminated_items"] == 1


def test_pipeline_stage_settings_are_checked_before_work(tmp_path: Path) -> None:
    import pytest

    from datacraft.errors import ConfigError

    (tmp_path / "in.jsonl").write_text('{"instruction": "a", "output": "b"}\n', encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(
        "inputs:\n  - path: in.jsonl\nstages:\n  - decontaminate:\n      against: [x.jsonl]\n      treshold: 0.6\n",
        encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'treshold'"):
        run_pipeline(str(tmp_path / "pipeline.yaml"))
    assert not (tmp_path / "out").exists()
