"""Ids given to records read without one: unique in a run, the same on every rerun."""

import json

from datacraft.io import write_records
from datacraft.io.ids import source_labels
from datacraft.stages import Ledger, read_stage


def _ids(paths):
    return [r["id"] for r in read_stage([str(p) for p in paths], Ledger())]


def test_same_named_files_in_different_folders_get_distinct_stable_ids(tmp_path):
    for lang in ("zh", "en"):
        (tmp_path / lang).mkdir()
        write_records(tmp_path / lang / "train.jsonl", [{"instruction": f"{lang} {i}", "output": "x"} for i in range(3)])
    paths = [tmp_path / "zh" / "train.jsonl", tmp_path / "en" / "train.jsonl"]
    first = _ids(paths)
    assert first == ["zh/train:1", "zh/train:2", "zh/train:3", "en/train:1", "en/train:2", "en/train:3"]
    assert _ids(paths) == first


def test_a_minified_array_gives_each_record_its_own_id(tmp_path):
    path = tmp_path / "min.json"
    path.write_text(json.dumps([{"instruction": str(i), "output": "x"} for i in range(999)]), encoding="utf-8")
    ids = _ids([path])
    assert len(set(ids)) == 999 and ids[:3] == ["min:1", "min:1.2", "min:1.3"]


def test_labels_keep_the_suffix_only_when_the_stems_still_collide():
    assert source_labels(["a/train.json", "a/train.jsonl", "b/dev.jsonl"]) == {
        "a/train.json": "a/train.json", "a/train.jsonl": "a/train.jsonl", "b/dev.jsonl": "dev"}
