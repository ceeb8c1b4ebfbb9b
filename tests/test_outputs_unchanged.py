"""The demo pipeline's outputs, pinned by digest: the speed work (issue 16) must not change them.

The digests were taken with the code before that work (commit e961a6e) on `data/examples`; the
clean stage's records and rejects and the exported train/validation files must stay byte for
byte the same. (Dedupe's output gained `meta.dedupe`, which export reads instead of clustering
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
    "02_clean.rejects.jsonl": "4ffd256633eef7e64825d580884feb844c26ab826c73fce89ac878e3f4810b26",
    "05_export/demo_train.jsonl": "4b4273cba0517309c66f289f1feb1f3ca2e79ec9cf81dc7669cf46ef39a9c089",
    "05_export/demo_validation.jsonl": "b37da3c5e669fd850e65c98b357aee152df2806f221b9013bedbc14fd7a3b86c",
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
    assert export["counts"]["near_duplicates_from"] == "dedupe"
    assert manifest["totals"] == {"read": 57, "kept": 41, "rejected": 16, "balanced": True}
