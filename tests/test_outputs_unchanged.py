"""The demo pipeline's outputs, pinned by digest: the speed work (issue 16) must not change them.

The digests were taken on `data/examples` with main's code without this work: the clean stage's
records and rejects as at e961a6e (unchanged since), the export files as at main 96241fc (its new
dedupe keeps one record fewer). They must stay byte for byte the same. (Dedupe's output gained `meta.dedupe`, which export reads instead of clustering
again, so that file and the provenance sidecar are not pinned.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from datacraft.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parent.parent
PINNED = {
    "02_clean.jsonl": "fe51f45fcc5479aaa16d295c5eeda7107f17d178cc187bee61e89726ad8f7b64",
    # Issue 9: one code per defect; the three blank records' reason is empty_field (was empty_output,
    # empty_instruction), every other byte as at 4ffd2566.
    "02_clean.rejects.jsonl": "d90684e55d98730a18096272aeb604198efe25263a5befad61f9c783f5555d5a",
    "05_export/demo_train.jsonl": "06d6b566804d47f8313decd794f639e8364c13ff85650c49d7a66020e58fce09",
    "05_export/demo_validation.jsonl": "e60d3a70894b296ec8c646bda1d81ca56f1b5e7f6c31c2237654c150efa4c2b5",
}


def test_demo_outputs_are_unchanged(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "data" / "pipeline.yaml").read_text(encoding="utf-8"))
    config["output_dir"] = str(tmp_path / "out")
    config["stages"] = [s for s in config["stages"] if not (isinstance(s, dict) and "stats" in s)]
    for spec in config["inputs"]:
        spec["path"] = str(ROOT / "data" / spec["path"])
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    manifest = run_pipeline(str(tmp_path / "pipeline.yaml"))
    got = {name: hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest() for name in PINNED}
    assert got == PINNED
    export = next(s for s in manifest["stages"] if s["stage"] == "export")
    # The demo dedupes at 0.8, stricter than export's 0.7: export must not trust it, and clusters itself.
    assert export["counts"]["near_duplicates_from"] == "export"
    assert manifest["totals"] == {"read": 57, "kept": 40, "rejected": 17, "balanced": True}
