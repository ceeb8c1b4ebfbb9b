"""`datacraft run` on the local executor and on Ray (1 and 2 workers) at N records: time, CPU, memory, same digest.

The corpus and pipeline are bench_pipeline.py's (read -> clean -> dedupe -> validate -> export,
planted duplicates and defects). Each run is a fresh interpreter. For Ray the driver starts a
local cluster of `--workers` CPUs (`ray.init(num_cpus=W)`), so the cluster's processes (GCS,
raylet, workers) are the driver's descendants: CPU is the driver's own (user + system) plus every
descendant's, read with psutil just before `ray.shutdown()`; memory is the driver's peak RSS
(VmHWM) and, separately, the sum of the workers' peak RSS. The JSON lines on stderr also split the
cluster's CPU into the `ray::` worker processes and Ray's own daemons. Cluster start-up is in the wall time
and is also printed alone. The digest (train + validation files) must equal the local run's.

    .venv/bin/python bench/bench_scale.py --sizes 100000 300000 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_pipeline import PIPELINE, digest, write_corpus  # noqa: E402

_BODY = """
import json, os, sys, time
import psutil
from datacraft.pipeline import run_pipeline
from datacraft.executors import make_executor
config, executor, workers = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
out = {{}}
with make_executor(executor, workers=int(workers) if executor == "ray" else None) as runner:
    if executor == "ray":
        runner.start()
        out["startup_s"] = time.perf_counter() - started
    run_pipeline(config, executor=runner)
    me = psutil.Process()
    cpu, work, peaks = 0.0, 0.0, []
    for proc in me.children(recursive=True):
        try:
            t = proc.cpu_times()
            cpu += t.user + t.system + t.children_user + t.children_system
            if proc.cmdline()[:1] and proc.cmdline()[0].startswith("ray::"):
                work += t.user + t.system
                peaks.append(int(next(l.split()[1] for l in open(f"/proc/{{proc.pid}}/status") if l.startswith("VmHWM"))))
        except (psutil.Error, OSError, StopIteration):
            continue
    out["cluster_cpu_s"] = cpu
    out["worker_cpu_s"] = work  # the ray:: worker processes; the rest is Ray's own (GCS, raylet, agents)
    out["worker_peak_rss_mib"] = sum(peaks) / 1024
    out["workers_seen"] = len(peaks)
own = os.times()
out["driver_cpu_s"] = own.user + own.system
out["driver_peak_rss_mib"] = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM"))) / 1024
sys.stderr.write("RESULT " + json.dumps(out) + "\\n")
"""


def run_one(config: Path, executor: str, workers: int, code: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), "RAY_DEDUP_LOGS": "0"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _BODY.format(), str(config), executor, str(workers)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{executor} run exited {done.returncode}:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stderr.split("RESULT ")[-1].splitlines()[0])
    result["wall_s"] = wall
    result["child_rusage_cpu_s"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    result["cpu_s"] = result["driver_cpu_s"] + result.get("cluster_cpu_s", 0.0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "datacraft-bench")
    parser.add_argument("--code", type=Path, default=ROOT, help="datacraft checkout to run")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start (shared)")
    print("| N | executor | wall s | Ray start s | CPU s (driver + cluster) | CPU ratio to local | "
          "driver peak RSS MiB | workers' peak RSS MiB (sum) | kept | digest = local |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        data = args.data_dir / f"pipeline_{n}.jsonl"
        if not data.exists():
            write_corpus(data, n)
        runs = [("local", 0)] + [("ray", w) for w in args.workers]
        local = None
        for executor, workers in runs:
            work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
            config = work / "pipeline.yaml"
            config.write_text(PIPELINE.format(out=work / "out", data=data))
            r = run_one(config, executor, workers, args.code.resolve())
            manifest = json.loads((work / "out" / "manifest.json").read_text())
            export = next(p for p in (work / "out").iterdir() if p.is_dir() and p.name.endswith("_export"))
            r.update(n=n, executor=executor, workers=workers, digest=digest(export), kept=manifest["totals"]["kept"],
                     stages={s["label"]: s["seconds"] for s in manifest["stages"]})
            shutil.rmtree(work)
            local = local or r
            name = "local" if executor == "local" else f"ray, {workers} worker{'s' if workers > 1 else ''}"
            print(f"| {n:,} | {name} | {r['wall_s']:.1f} | {r.get('startup_s', 0):.1f} | "
                  f"{r['driver_cpu_s']:.1f} + {r.get('cluster_cpu_s', 0):.1f} = {r['cpu_s']:.1f} | "
                  f"{r['cpu_s'] / local['cpu_s']:.2f}x | {r['driver_peak_rss_mib']:.0f} | "
                  f"{r.get('worker_peak_rss_mib', 0):.0f} | {r['kept']:,} | "
                  f"{'yes' if r['digest'] == local['digest'] else 'NO'} |", flush=True)
            print(json.dumps(r), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
