"""Export takes near-duplicate groups from dedupe's `meta.dedupe` instead of clustering again."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from datacraft.dedupe import DedupeConfig, dedupe_file
from datacraft.export import export_dataset


def _write(path: Path, records: list[dict]) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return str(path)


def _records(n: int = 40) -> list[dict]:
    out = [{"id": f"r{i}", "instruction": f"Question number {i} about topic {i * 7} in detail",
            "input": "", "output": f"Answer {i}: the value is {i * 13}, and the reason is {i * 17} units."}
           for i in range(n)]
    out.append({**out[0], "id": "copy0"})  # an exact copy of r0
    return out


def _lines(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_deduped_input_reuses_the_clusters_and_splits_as_reclustering_would(tmp_path: Path) -> None:
    raw = _write(tmp_path / "raw.jsonl", _records())
    deduped = str(tmp_path / "deduped.jsonl")
    dedupe_file([raw], deduped)
    marks = [r["meta"]["dedupe"] for r in _lines(deduped)]
    assert len(marks) == 40 and marks[0] == {"group": "r0", "threshold": DedupeConfig().threshold,
                                             "fields": list(DedupeConfig().fields)}
    reused = export_dataset([deduped], str(tmp_path / "a"), val_size=0.25, seed=3)
    assert reused["near_duplicates_from"] == "dedupe"
    # The same records without the marks: export clusters them itself, and must split them alike.
    bare = _write(tmp_path / "bare.jsonl", [{k: v for k, v in r.items() if k != "meta"} for r in _lines(deduped)])
    again = export_dataset([bare], str(tmp_path / "b"), val_size=0.25, seed=3)
    assert again["near_duplicates_from"] == "export"
    for split in ("train", "validation"):
        assert _lines(reused["files"][split]) == _lines(again["files"][split])


def test_one_unmarked_record_means_export_clusters_everything(tmp_path: Path) -> None:
    raw = _write(tmp_path / "raw.jsonl", _records())
    deduped = str(tmp_path / "deduped.jsonl")
    dedupe_file([raw], deduped)
    late = {"id": "late", "instruction": "Question number 0 about topic 0 in detail", "input": "",
            "output": "Answer 0: the value is 0, and the reason is 0 units."}  # r0 again, added after dedupe
    mixed = _write(tmp_path / "mixed.jsonl", [*_lines(deduped), late])
    result = export_dataset([mixed], str(tmp_path / "out"), val_size=0.25, seed=3)
    assert result["near_duplicates_from"] == "export"
    assert result["grouped_records"] == 2  # r0 and its late copy share a group
    splits = {r["id"]: r["split"] for r in _lines(result["files"]["provenance"])}
    assert splits["r0"] == splits["late"]


def test_a_stricter_dedupe_threshold_is_not_trusted(tmp_path: Path) -> None:
    fields = list(DedupeConfig().fields)
    records = [{**r, "meta": {"dedupe": {"group": r["id"], "threshold": 0.99, "fields": fields}}} for r in _records()]
    result = export_dataset([_write(tmp_path / "in.jsonl", records)], str(tmp_path / "out"), val_size=0.25)
    # Survivors of a stricter dedupe can still be similar at export's threshold: export clusters.
    assert result["near_duplicates_from"] == "export"
    assert result["grouped_records"] == 2
