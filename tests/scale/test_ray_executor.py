"""`datacraft run --executor ray` on a real local Ray cluster: the same files as the local executor, byte for byte.

Compared: every stage's records and rejects (with reasons and `dup_of`), export's split files and
dataset_info.json, and the manifest's counts and output digests. On the example pipeline and on
a 20k-record corpus with planted exact and near duplicates and planted defects (bench/).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.executors.ray import RayExecutor
from datacraft.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.bench_pipeline import write_corpus  # noqa: E402

SYNTH = """name: synth
output_dir: {out}
inputs:
  - path: corpus.jsonl
stages:
  - read
  - clean
  - dedupe:
      keep: {keep}
  - validate
  - export:
      format: sharegpt
      val_size: 0.05
"""


def _example(tmp_path: Path, out: str) -> Path:
    folder = tmp_path / "data"
    if not folder.exists():
        shutil.copytree(ROOT / "data" / "examples", folder / "examples")
    text = (ROOT / "data" / "pipeline.yaml").read_text(encoding="utf-8").replace("output_dir: ../out/demo",
                                                                                 f"output_dir: {out}")
    assert f"output_dir: {out}" in text
    config = folder / f"{out}.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def _counts(value, root: Path):
    """Counts without their timings, with paths relative to the output folder (what two runs may differ in)."""
    if isinstance(value, dict):
        return {k: _counts(v, root) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_counts(v, root) for v in value]
    return value.replace(str(root), "OUT") if isinstance(value, str) else value


def assert_same_outputs(local: Path, ray: Path) -> None:
    """Every file of the two output folders is identical; stats (which name their input's path) and manifest aside."""
    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(ray) for p in ray.rglob("*") if p.is_file())
    for name in files:
        if name.name == "manifest.json" or "_stats" in str(name.parent):
            continue
        assert (local / name).read_bytes() == (ray / name).read_bytes(), f"{name} differs"
    a, b = (json.loads((d / "manifest.json").read_text()) for d in (local, ray))
    assert a["totals"] == b["totals"] and a["totals"]["balanced"]
    for x, y in zip(a["stages"], b["stages"], strict=True):
        assert (x["label"], x["fingerprint"], _counts(x["counts"], local)) == \
            (y["label"], y["fingerprint"], _counts(y["counts"], ray))
        if x["stage"] != "stats":
            assert x["outputs"] == y["outputs"]
    assert a["executor"] == {"name": "local"} and b["executor"]["name"] == "ray"
    for stats in sorted(local.glob("*_stats/stats.json")):
        right = json.loads((ray / stats.relative_to(local)).read_text())
        assert _counts(json.loads(stats.read_text()), local) == _counts(right, ray)


def _run_ray(config: Path, chunk_records: int) -> dict:
    with RayExecutor(chunk_records=chunk_records) as executor:
        return run_pipeline(str(config), executor=executor)


def test_example_pipeline_gives_the_local_outputs(cluster, tmp_path: Path) -> None:
    local = run_pipeline(str(_example(tmp_path, "out_local")))
    ray = _run_ray(_example(tmp_path, "out_ray"), chunk_records=16)  # 4 chunks of the 55 read records
    assert ray["executor"]["stages"] == {"01_read": "driver", "02_clean": "ray", "03_dedupe": "ray",
                                         "04_validate": "ray", "05_export": "driver", "06_stats": "driver"}
    assert local["totals"] == {"read": 57, "kept": 40, "rejected": 17, "balanced": True}
    assert_same_outputs(tmp_path / "data" / "out_local", tmp_path / "data" / "out_ray")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 records with planted exact and near copies and planted defects, run once locally."""
    folder = tmp_path_factory.mktemp("synth")
    write_corpus(folder / "corpus.jsonl", 20_000)
    (folder / "local_first.yaml").write_text(SYNTH.format(out="local_first", keep="first"))
    run_pipeline(str(folder / "local_first.yaml"))
    return folder


def test_keep_longest_references_and_big_buckets_give_the_local_outputs(cluster, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 2000, seed=3)
    lines = corpus.read_bytes().splitlines(keepends=True)
    (tmp_path / "ref.jsonl").write_bytes(b"".join(lines[::7]))  # records that copy a reference are dropped
    # templated records: band buckets past the survivor rule's pairing cap (32), resolved in its loop
    body = " ".join(f"step {i} mixes the flour with water and salt" for i in range(12))
    lines += [json.dumps({"instruction": f"Recipe card {i}", "output": f"{body} variant {i % 7}"}).encode() + b"\n"
              for i in range(80)]
    (tmp_path / "corpus.jsonl").write_bytes(b"".join(lines))
    text = SYNTH.replace("      keep: {keep}", "      keep: longest\n      against: [ref.jsonl]")
    for out in ("local", "ray"):
        (tmp_path / f"{out}.yaml").write_text(text.format(out=out))
    run_pipeline(str(tmp_path / "local.yaml"))
    manifest = _run_ray(tmp_path / "ray.yaml", chunk_records=512)
    reasons = next(s for s in manifest["stages"] if s["stage"] == "dedupe")["counts"]["reasons"]
    assert reasons["near_dedupe/copies_reference"] > 200
    assert_same_outputs(tmp_path / "local", tmp_path / "ray")


def test_cli_runs_the_pipeline_on_ray(cluster, tmp_path: Path) -> None:
    config = _example(tmp_path, "out_cli")
    result = CliRunner().invoke(cli, ["run", str(config), "--executor", "ray", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("total: read 57, kept 40, rejected 17 -> ")
    manifest = json.loads((config.parent / "out_cli" / "manifest.json").read_text())
    assert manifest["executor"]["name"] == "ray" and manifest["executor"]["cluster_cpus"] == 2


def test_address_and_workers_are_for_the_ray_executor(tmp_path: Path) -> None:
    config = _example(tmp_path, "out_opts")
    result = CliRunner().invoke(cli, ["run", str(config), "--workers", "2"])
    assert result.exit_code == 2
    assert result.output == "Error: --address and --workers are for --executor ray\n"
    assert not (config.parent / "out_opts").exists()


_NO_RAY = "import sys; sys.modules['ray'] = None; from datacraft.cli import cli; cli()"


def test_without_ray_the_ray_executor_is_a_clear_error_and_local_still_runs(tmp_path: Path) -> None:
    config = _example(tmp_path, "out_noray")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ray = subprocess.run([sys.executable, "-c", _NO_RAY, "run", str(config), "--executor", "ray"],
                         capture_output=True, text=True, env=env, check=False)
    assert ray.returncode == 2
    assert ray.stderr == "Error: --executor ray needs Ray: pip install 'datacraft[ray]'\n"
    assert not (config.parent / "out_noray").exists()
    local = subprocess.run([sys.executable, "-c", _NO_RAY, "run", str(config), "-q"],
                           capture_output=True, text=True, env=env, check=False)
    assert local.returncode == 0, local.stderr
    assert local.stdout.startswith("total: read 57, kept 40, rejected 17")


def test_an_unreachable_address_is_exit_3_before_any_work(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    config = _example(tmp_path, "out_addr")
    done = subprocess.run([sys.executable, "-c", "from datacraft.cli import cli; cli()", "run", str(config),
                           "--executor", "ray", "--address", "127.0.0.1:1"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 3
    assert done.stderr.startswith("Error: cannot connect to the Ray cluster at 127.0.0.1:1: Connection refused; ")
    assert not (config.parent / "out_addr").exists()


def _our_map_workers() -> list[int]:
    """Ray workers of this test's own cluster (children of its raylet) running a map task now."""
    import psutil

    found = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            title = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if title.startswith("ray::") and "MapBatches" in title:
            found.append(proc.pid)
    return found


def test_synth_20k_with_a_worker_killed_mid_run_gives_the_local_outputs(cluster, synth: Path) -> None:
    """The Ray run of the 20k corpus, with one map worker SIGKILLed while it works: Ray reruns its
    chunk (a pure function of the chunk's input bytes) and every file is still the local run's."""
    (synth / "ray.yaml").write_text(SYNTH.format(out="ray_first", keep="first"))
    done: dict = {}

    def run() -> None:
        try:
            done["manifest"] = _run_ray(synth / "ray.yaml", chunk_records=2048)  # 10 chunks
        except Exception as exc:  # noqa: BLE001 - reported below
            done["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and thread.is_alive() and time.monotonic() < deadline:
        pids = _our_map_workers()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed = pids[0]
        time.sleep(0.01)
    thread.join(300)
    assert killed is not None, "no map task was seen running"
    assert not thread.is_alive() and "error" not in done, done.get("error")
    dedupe = next(s for s in done["manifest"]["stages"] if s["stage"] == "dedupe")["counts"]["reasons"]
    assert dedupe["exact_dedupe/exact_duplicate"] > 300 and dedupe["near_dedupe/near_duplicate"] > 600  # planted
    assert_same_outputs(synth / "local_first", synth / "ray_first")
