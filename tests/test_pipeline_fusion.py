"""Fused record stages (`datacraft run`): the same files and manifest as stage by stage, resumable, nothing partial."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from datacraft.executors.local import LocalExecutor
from datacraft.fusion import StreamPart, run_stream
from datacraft.pipeline import fusion_enabled, run_pipeline
from datacraft.registry import REGISTRY, StageSpec
from datacraft.stages import map_stage, read_stage
from tests import test_pipeline as pipeline_tests

ROOT = Path(__file__).resolve().parents[1]

# test_pipeline's corpus and pipeline, plus a record with meta and one with its own id (what the
# in-memory hand-off must carry exactly as a read-back would)
RECORDS = [*pipeline_tests.RECORDS[:4],
           {"instruction": "Translate 'cat' into French.", "input": "", "output": "chat", "meta": {"src": "x", "n": 2}},
           *pipeline_tests.RECORDS[5:],
           {"instruction": "List three colours.", "output": "Red, green and blue.", "id": "own-id"}]
CONFIG = pipeline_tests.CONFIG


@pytest.fixture
def project(tmp_path: Path) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS] + ["{not json"]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The stages the local executor ran, one list per call: one stage alone, or a fused stream."""
    seen: list[list[str]] = []
    run_stage, stream = LocalExecutor.run_stage, LocalExecutor.run_stream

    def one(self, kind, *args):
        seen.append([kind])
        return run_stage(self, kind, *args)

    def many(self, members, *args):
        seen.append([kind for kind, _, _ in members])
        return stream(self, members, *args)

    monkeypatch.setattr(LocalExecutor, "run_stage", one)
    monkeypatch.setattr(LocalExecutor, "run_stream", many)
    return seen


def _files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def _entries(manifest: dict) -> list[dict]:
    """The manifest's stage entries without the timings (which differ run to run)."""
    untimed = []
    for stage in manifest["stages"]:
        entry = {k: v for k, v in stage.items() if k not in ("seconds", "cpu_seconds", "skipped")}
        entry["counts"] = json.loads(json.dumps(entry["counts"]))
        for part in entry["counts"].get("stages", {}).values():
            part.pop("seconds", None)
        entry["counts"].pop("files", None)  # export's absolute paths
        untimed.append(entry)
    return untimed


def _both(folder: Path, config: str) -> tuple[dict, dict]:
    """Run `config` in `folder` unfused (into out_0) and fused (into out_1); the two manifests."""
    manifests = {}
    for fuse in (False, True):
        text = config.replace("output_dir: out", f"output_dir: out_{int(fuse)}")
        (folder / f"p{int(fuse)}.yaml").write_text(text, encoding="utf-8")
        manifests[fuse] = run_pipeline(str(folder / f"p{int(fuse)}.yaml"), fuse=fuse)
    return manifests[False], manifests[True]


def test_fused_run_writes_the_same_files_and_manifest_as_stage_by_stage(project, calls):
    unfused, fused = _both(project, CONFIG)
    assert calls == [["read"], ["clean"], ["dedupe"], ["validate"], ["export"],
                     ["read", "clean", "dedupe", "validate"], ["export"]]
    assert _files(project / "out_1") == _files(project / "out_0")
    assert _entries(fused) == _entries(unfused)
    assert fused["totals"] == unfused["totals"] == {"read": 8, "kept": 5, "rejected": 3, "balanced": True}
    assert all(isinstance(s["cpu_seconds"], float) and s["cpu_seconds"] >= 0 for s in fused["stages"])


def test_the_demo_pipeline_fused_and_unfused_is_byte_identical(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    config = (tmp_path / "data" / "pipeline.yaml").read_text(encoding="utf-8")
    config = config.replace("output_dir: ../out/demo", "output_dir: out").replace("html: report.html", "{}")
    unfused, fused = _both(tmp_path / "data", config)
    out0, out1 = tmp_path / "data" / "out_0", tmp_path / "data" / "out_1"
    stats = "06_stats/stats.json"  # names its input file, whose folder differs
    assert json.loads((out1 / stats).read_text().replace("out_1", "out_0")) == json.loads((out0 / stats).read_text())
    assert {k: v for k, v in _files(out1).items() if k != stats} == {k: v for k, v in _files(out0).items() if k != stats}
    assert [e for e in _entries(fused) if e["stage"] != "stats"] == [e for e in _entries(unfused) if e["stage"] != "stats"]


def _stage(kind: str, fn) -> StageSpec:
    """REGISTRY[kind] with its stages replaced by one map stage running `fn`."""
    return dataclasses.replace(REGISTRY[kind], build=lambda _settings, ledger, _base: [map_stage(kind, fn, ledger)])


def test_the_next_stage_gets_what_it_would_have_read_back(project, monkeypatch):
    """Values that JSON changes (tuple, NaN, int keys, a dict subclass) reach the next stage as read from the file."""
    class Tagged(dict):
        pass

    def odd(record):
        return Tagged(record, meta={"pair": (1, 2), "score": float("nan"), 3: "int key", "ok": [0.5, None]})

    seen: dict[bool, list[str]] = {False: [], True: []}
    mode = {"fuse": False}

    def look(record):
        seen[mode["fuse"]].append(f"{type(record).__name__} {record!r}")
        return record

    monkeypatch.setitem(REGISTRY, "clean", _stage("clean", odd))
    monkeypatch.setitem(REGISTRY, "dedupe", _stage("dedupe", look))
    config = CONFIG.replace("  - validate: {schema: alpaca}\n", "")
    for fuse in (False, True):
        mode["fuse"] = fuse
        (project / f"p{int(fuse)}.yaml").write_text(config.replace("output_dir: out", f"output_dir: out_{int(fuse)}"))
        run_pipeline(str(project / f"p{int(fuse)}.yaml"), fuse=fuse)
    assert seen[True] == seen[False]
    assert seen[True][0].startswith("dict ") and "'pair': [1, 2], 'score': None, '3': 'int key'" in seen[True][0]
    assert _files(project / "out_1") == _files(project / "out_0")


def test_a_fused_run_resumes_like_an_unfused_one(project, calls):
    config = str(project / "pipeline.yaml")
    first = run_pipeline(config)
    again = run_pipeline(config)
    assert all(s["skipped"] for s in again["stages"])
    assert [s["cpu_seconds"] for s in again["stages"]] == [s["cpu_seconds"] for s in first["stages"]]
    # A later stage's settings changed: the stages before it are skipped, it and the rest rerun (fused).
    calls.clear()
    (project / "pipeline.yaml").write_text(CONFIG.replace("threshold: 0.8", "threshold: 0.9"), encoding="utf-8")
    third = run_pipeline(config)
    assert [s["skipped"] for s in third["stages"]] == [True, True, False, False, False]
    assert calls == [["dedupe", "validate"], ["export"]]
    # A damaged output: only that stage reruns, alone, and the next one finds the same records.
    calls.clear()
    (project / "out" / third["stages"][1]["outputs"]["records"]["path"]).write_text("", encoding="utf-8")
    fourth = run_pipeline(config)
    assert [s["skipped"] for s in fourth["stages"]] == [True, False, True, True, True]
    assert calls == [["clean"]]
    assert _entries(fourth) == _entries(third)


def test_fusion_can_be_switched_off(project, calls, monkeypatch):
    assert fusion_enabled() and fusion_enabled(True) and not fusion_enabled(False)
    monkeypatch.setenv("DATACRAFT_FUSE", "0")
    assert not fusion_enabled() and fusion_enabled(True)
    run_pipeline(str(project / "pipeline.yaml"))
    assert calls == [["read"], ["clean"], ["dedupe"], ["validate"], ["export"]]


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp"))


def test_a_stage_failing_mid_stream_leaves_no_partial_file(project, monkeypatch):
    rows = [{"instruction": f"Question {i}?", "output": f"Answer number {i}."} for i in range(300)]
    (project / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def boom(record):
        if record["instruction"] == "Question 100?":
            raise RuntimeError("stage failed")
        return record

    monkeypatch.setitem(REGISTRY, "clean", _stage("clean", boom))
    with pytest.raises(RuntimeError, match="stage failed"):
        run_pipeline(str(project / "pipeline.yaml"))
    # read was still streaming (a chunk of 64 at a time): nothing is under a final name, no temp file is left
    assert sorted(p.name for p in (project / "out").iterdir()) == []


def test_stages_done_before_a_failure_are_kept_and_skipped_on_rerun(project, monkeypatch):
    """validate takes every record (dedupe's upstream is exhausted: read, clean and dedupe close), then fails."""
    real = REGISTRY["validate"]

    def failing(settings, ledger, base):
        def stage(records):
            list(records)
            raise RuntimeError("validate failed")
            yield  # a generator, as stages are

        return [*real.build(settings, ledger, base), stage]

    monkeypatch.setitem(REGISTRY, "validate", dataclasses.replace(real, build=failing))
    with pytest.raises(RuntimeError, match="validate failed"):
        run_pipeline(str(project / "pipeline.yaml"))
    out = project / "out"
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [s["label"] for s in written["stages"]] == ["01_read", "02_clean", "03_dedupe"]
    assert not (out / "04_validate.jsonl").exists() and not (out / "04_validate.rejects.jsonl").exists()
    assert _leftovers(out) == []
    monkeypatch.setitem(REGISTRY, "validate", real)
    again = run_pipeline(str(project / "pipeline.yaml"))
    assert [s["skipped"] for s in again["stages"]] == [True, True, True, False, False]
    assert again["totals"] == {"read": 8, "kept": 5, "rejected": 3, "balanced": True}


_KILLED = """
import dataclasses, os, signal, sys
from datacraft.pipeline import run_pipeline
from datacraft.registry import REGISTRY, StageSpec
from datacraft.stages import map_stage

def die(record):
    if record["instruction"].startswith("Translate"):
        os.kill(os.getpid(), signal.SIGTERM)
    return record

REGISTRY["validate"] = dataclasses.replace(REGISTRY["validate"],
                                           build=lambda s, ledger, b: [map_stage("validate", die, ledger)])
run_pipeline(sys.argv[1])
"""


def test_sigterm_mid_stream_leaves_no_partial_file_and_the_rerun_resumes(project):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(project / "pipeline.yaml")], env=env,
                            capture_output=True, check=False, timeout=300)
    assert killed.returncode == -signal.SIGTERM, killed.stderr
    out = project / "out"
    # Eight records, under a chunk: read, clean and dedupe had all their input, and closed, before validate died.
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [s["label"] for s in written["stages"]] == ["01_read", "02_clean", "03_dedupe"]
    assert not (out / "04_validate.jsonl").exists() and not (out / "04_validate.rejects.jsonl").exists()
    assert _leftovers(out)  # validate's temp files: a killed process cannot remove them; never a final name
    manifest = run_pipeline(str(project / "pipeline.yaml"))
    assert [s["skipped"] for s in manifest["stages"]] == [True, True, True, False, False]
    assert manifest["totals"] == {"read": 8, "kept": 5, "rejected": 3, "balanced": True}
    assert _leftovers(out) == []  # the dead run's temp files are removed when the files are written again


def test_a_stage_that_stops_early_still_gets_its_upstream_written_in_full(tmp_path):
    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(200)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    finished: list[tuple[int, int]] = []

    def first_two(records):
        for _, record in zip(range(2), records, strict=False):
            yield record

    parts = [StreamPart("a", [str(tmp_path / "in.jsonl")], str(tmp_path / "a.jsonl"), str(tmp_path / "a.rej"),
                        lambda ledger: []),
             StreamPart("b", [str(tmp_path / "a.jsonl")], str(tmp_path / "b.jsonl"), str(tmp_path / "b.rej"),
                        lambda ledger: [first_two])]
    run_stream(lambda ledger: read_stage([str(tmp_path / "in.jsonl")], ledger), parts,
               lambda index, counts, *_: finished.append((index, counts["kept"])))
    assert finished == [(0, 200), (1, 2)]
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 200


def test_cpu_is_charged_to_the_stage_that_spent_it(tmp_path, monkeypatch):
    """A fake clock that only the stages advance: each gets exactly what it spent, its upstream's excluded."""
    now = {"t": 0.0}
    monkeypatch.setattr("datacraft.fusion.time", types.SimpleNamespace(process_time=lambda: now["t"],
                                                                       perf_counter=lambda: now["t"]))

    def spend(seconds):
        def fn(record):
            now["t"] += seconds
            return record
        return fn

    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(150)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    costs = {"a": 1.0, "b": 10.0, "c": 100.0}
    parts, before = [], str(tmp_path / "in.jsonl")
    for name, cost in costs.items():
        parts.append(StreamPart(name, [before], str(tmp_path / f"{name}.jsonl"), str(tmp_path / f"{name}.rej"),
                                lambda ledger, name=name, cost=cost: [map_stage(name, spend(cost), ledger)]))
        before = parts[-1].output
    got: dict[int, tuple[float, float]] = {}
    run_stream(lambda ledger: read_stage([str(tmp_path / "in.jsonl")], ledger), parts,
               lambda index, counts, seconds, cpu: got.update({index: (seconds, cpu)}))
    assert got == {0: (150.0, 150.0), 1: (1500.0, 1500.0), 2: (15000.0, 15000.0)}


def test_ledger_counts_in_a_stream_match_a_file_read(tmp_path):
    """Each fused stage counts its input as "read", as it would reading the previous stage's file."""
    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(70)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    counts: list[dict] = []
    parts = [StreamPart(n, [str(tmp_path / "in.jsonl")], str(tmp_path / f"{n}.jsonl"), str(tmp_path / f"{n}.rej"), lambda ledger: [])
             for n in ("a", "b")]
    run_stream(lambda ledger: read_stage([str(tmp_path / "in.jsonl")], ledger), parts,
               lambda index, c, *_: counts.append(c))
    assert [c["stages"]["read"] for c in counts] == [{"read": 70, "kept": 70, "rejected": 0, "reasons": {},
                                                      "seconds": 0.0}] * 2
