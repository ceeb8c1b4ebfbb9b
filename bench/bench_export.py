"""Export alone, in process: `export_dataset` on validated records, code versions interleaved.

Input: the validate stage's output of a `bench_pipeline.py --keep` run (`out/04_validate.jsonl`),
exported as that pipeline does (ShareGPT, val_size 0.05). Each round runs every code version once,
in turn, each in a fresh interpreter with PYTHONPATH at that code; the CPU time (user + system,
`time.process_time`) is taken around `export_dataset` alone (imports excluded), the peak RSS is the
child's VmHWM. The train + validation digest of each run must be the same for every code, or this
exits 1.

    .venv/bin/python bench/bench_pipeline.py --sizes 100000 --keep /tmp/run100k
    .venv/bin/python bench/bench_export.py /tmp/run100k/out/04_validate.jsonl --code main=/tmp/main branch=.
    .venv/bin/python bench/bench_export.py /tmp/run100k/out/04_validate.jsonl --repeat 11 --code ...  # ~966k

`--repeat K` exports K copies of the records instead, copy k's ids and dedupe groups suffixed `-rk`
so that the copies are distinct records in distinct groups (the larger rows in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bench_pipeline import digest  # noqa: E402  (the train + validation digest, taken the same way)

_CHILD = """
import json, sys, time
import datacraft
from datacraft.export import export_dataset
started = time.process_time()
result = export_dataset([{data!r}], {out!r}, fmt={fmt!r}, val_size={val_size!r})
cpu = time.process_time() - started
hwm = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0]
print(json.dumps({{"cpu_s": cpu, "peak_rss_mib": int(hwm) / 1024, "kept": result["kept"],
                  "datacraft": datacraft.__file__}}))
"""


def run_once(code: Path, data: str, fmt: str, val_size: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="export-bench-") as out:
        env = {**os.environ, "PYTHONPATH": str(code)}
        done = subprocess.run([sys.executable, "-c", _CHILD.format(data=data, out=out, fmt=fmt, val_size=val_size)],
                              env=env, cwd=out, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"child exited {done.returncode}:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if not result["datacraft"].startswith(str(code)):
            raise SystemExit(f"imported {result['datacraft']}, not the code in {code}")
        result["digest"] = digest(Path(out))
        return result


def repeated(data: str, k: int, out: Path) -> Path:
    """`k` copies of the records of `data`, ids and `meta.dedupe.group` suffixed per copy."""
    with open(data, "rb") as src, open(out, "wb") as dst:
        lines = src.readlines()
        for copy in range(k):
            for line in lines:
                record = orjson.loads(line)
                if record.get("id") is not None:
                    record["id"] = f"{record['id']}-r{copy}"
                group = (record.get("meta") or {}).get("dedupe")
                if isinstance(group, dict) and group.get("group") is not None:
                    group["group"] = f"{group['group']}-r{copy}"
                dst.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="validated records (JSON Lines), e.g. a --keep run's out/04_validate.jsonl")
    parser.add_argument("--code", nargs="+", required=True, metavar="NAME=PATH",
                        help="code versions: folders holding datacraft/ (and schemas/, prompts/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="sharegpt")
    parser.add_argument("--val-size", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=1, help="export this many suffixed copies of the records")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="export-bench-input-")
    if args.repeat > 1:
        args.data = str(repeated(args.data, args.repeat, Path(scratch.name) / "repeated.jsonl"))
    codes = {name: Path(path).resolve() for name, path in (c.split("=", 1) for c in args.code)}
    lines = sum(1 for _ in open(args.data, "rb"))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; {lines:,} records")
    print("| round | code | export CPU s | CPU µs/record | peak RSS MiB | kept | digest |")
    print("|---|---|---|---|---|---|---|")
    digests = set()
    for r in range(1, args.rounds + 1):
        for name, code in codes.items():
            res = run_once(code, os.path.abspath(args.data), args.format, args.val_size)
            digests.add(res["digest"])
            print(f"| {r} | {name} | {res['cpu_s']:.2f} | {res['cpu_s'] / lines * 1e6:.1f} | "
                  f"{res['peak_rss_mib']:.0f} | {res['kept']:,} | {res['digest'][:16]} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    if len(digests) != 1:
        raise SystemExit(f"outputs differ between codes: {sorted(digests)}")


if __name__ == "__main__":
    main()
