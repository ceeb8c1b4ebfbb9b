"""Benchmark `datacraft ingest` on local JSONL and CSV against pandas, in the same run.

Contender: `datacraft.ingest.ingest([path], out)`: stream rows, map them to Alpaca records with
`id` and `meta.source = path:line` provenance, write JSONL atomically.
Baseline: `pandas.read_json(path, lines=True)` / `pandas.read_csv(path, dtype=str)`, then
`to_dict("records")` and the same JSONL written with orjson and fsynced, as ingest's atomic writer
does (the whole file held in memory, as pandas does). The load-only time of pandas (read + to_dict) is shown too: it does less work than
ingest and is the stricter baseline.

Each run is a fresh subprocess whose peak RSS (VmHWM) is reset after the imports, so "growth" (peak
RSS minus RSS before the run) is what the run itself needed. Ingest is also run on a tenth of the rows: equal growth at N/10 and N
is what constant memory means.

Wall-clock rates depend on what else the machine runs; records per CPU-second (user + system time
of the run) are shown too, as they hardly change with load.

Run: .venv/bin/python bench/bench_ingest.py [--n 1000000] [--repeat 3] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

WORDS = ("data model train answer question explain list write summary python sort language token "
         "数据 模型 训练 回答 问题 解释 写 总结 中文 翻译 句子 文本").split()


def make_inputs(folder: Path, n: int, seed: int = 7) -> dict[str, Path]:
    """n Alpaca rows as JSONL and n question/context/answer rows as CSV, from a seeded pool of texts."""
    rng = random.Random(seed)

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))

    pool = [(text(4, 16), text(0, 8), text(10, 50)) for _ in range(10_000)]
    jsonl, table = folder / "rows.jsonl", folder / "rows.csv"
    with open(jsonl, "wb") as out:
        for i in range(n):
            q, c, a = pool[i % len(pool)]
            out.write(orjson.dumps({"instruction": f"{i}. {q}", "input": c, "output": a}) + b"\n")
    with open(table, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["question", "context", "answer"])
        for i in range(n):
            q, c, a = pool[i % len(pool)]
            writer.writerow([f"{i}. {q}", c, a])
    return {"jsonl": jsonl, "csv": table}


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB, from /proc; ru_maxrss where /proc is missing."""
    status = Path("/proc/self/status")
    if not status.exists():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.read_text().splitlines() if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _reset_peak() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS: the peak then measures the run, not the imports.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def worker(contender: str, path: str, out: str) -> dict[str, Any]:
    """One timed run, in its own process; returns seconds, rows and memory."""
    if contender == "datacraft":
        from datacraft.ingest import ingest
    else:
        import pandas as pd
    _reset_peak()
    start_rss = _status_mb("VmRSS")
    cpu = time.process_time()
    started = time.perf_counter()
    loaded = None
    if contender == "datacraft":
        rows = ingest([path], out)["written"]
    else:
        if path.endswith(".jsonl"):
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        records = frame.to_dict("records")
        loaded = time.perf_counter() - started
        with open(out, "wb") as handle:
            for record in records:
                handle.write(orjson.dumps(record) + b"\n")
            # ingest's atomic writer fsyncs before renaming into place: the baseline pays for that too
            handle.flush()
            os.fsync(handle.fileno())
        rows = len(records)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu, "rows": rows, "load_seconds": loaded, "rss_start": start_rss,
            "rss_peak": _status_mb("VmHWM")}


def run(contender: str, path: Path, folder: Path) -> dict[str, Any]:
    out = folder / f"out-{contender}-{path.name}.jsonl"
    result = subprocess.run([sys.executable, __file__, "--worker", contender, str(path), str(out)],
                            capture_output=True, text=True, check=True)
    out.unlink(missing_ok=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    return f"nproc {os.cpu_count()}, {cpu}, {mem} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows per input file")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (best time is kept)")
    parser.add_argument("--markdown", action="store_true", help="print a docs/benchmarks.md table")
    parser.add_argument("--worker", nargs=3, metavar=("CONTENDER", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        (folder / "small").mkdir()
        small = make_inputs(folder / "small", args.n // 10)
        inputs = make_inputs(folder, args.n)
        load_before = os.getloadavg()[0]
        rows = []
        for kind, path in inputs.items():
            mine = min((run("datacraft", path, folder) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            base = min((run("pandas", path, folder) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            tenth = run("datacraft", small[kind], folder)
            rows.append((kind, path.stat().st_size, mine, base, tenth))
        load_after = os.getloadavg()[0]

    print(f"Machine: {machine()}; pandas {pd.__version__}, orjson {orjson.__version__}; "
          f"load average {load_before:.1f} before, {load_after:.1f} after")
    sep = "|" if args.markdown else " "
    header = ["input", "rows", "size MB", "datacraft ingest rec/s", "pandas load+write rec/s", "ratio",
              "pandas load only rec/s", "ingest rec per CPU-s", "pandas rec per CPU-s",
              "ingest peak RSS MB (growth)", "ingest growth at N/10 MB", "pandas peak RSS MB (growth)"]
    print(f"{sep} " + f" {sep} ".join(header) + f" {sep}" if args.markdown else "  ".join(header))
    if args.markdown:
        print("|" + "---|" * len(header))
    for kind, size, mine, base, tenth in rows:
        n = mine["rows"]
        cells = [kind.upper(), f"{n:,}", f"{size / 1e6:.0f}", f"**{n / mine['seconds']:,.0f}**",
                 f"{n / base['seconds']:,.0f}", f"**{base['seconds'] / mine['seconds']:.2f}x**",
                 f"{n / base['load_seconds']:,.0f}", f"{n / mine['cpu_seconds']:,.0f}",
                 f"{n / base['cpu_seconds']:,.0f}",
                 f"{mine['rss_peak']:.0f} ({mine['rss_peak'] - mine['rss_start']:.0f})",
                 f"{tenth['rss_peak'] - tenth['rss_start']:.0f}",
                 f"{base['rss_peak']:.0f} ({base['rss_peak'] - base['rss_start']:.0f})"]
        if not args.markdown:
            cells = [c.replace("**", "") for c in cells]
        print(f"{sep} " + f" {sep} ".join(cells) + f" {sep}" if args.markdown else "  ".join(cells))
    for label, key in (("wall clock", "seconds"), ("per CPU-second", "cpu_seconds")):
        ok = all(mine["rows"] / mine[key] >= 100_000 for _, _, mine, _, _ in rows)
        print(f"target >= 100,000 records/s ({label}): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
