"""CPU µs per record of `clean`'s normalise and filter stages, in-process, on the pipeline bench corpus.

The records are `bench_pipeline.write_corpus`'s (zh/en Alpaca, 12% planted defects), read into
memory; normalise and then the default filters run block by block as the block stages run them
(`Normalizer.load_block` + the normaliser per record, `checks.load_block` + `record_filter` per
record), each timed with `time.process_time`. The digest covers every normalised record and every
verdict, so two code versions can be compared. With several `--code` folders the children run
interleaved, round by round, so every version sees the same load.

    .venv/bin/python bench/bench_clean.py --code /tmp/base /work/wt/clean --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import hashlib, json, sys, time
import orjson
import datacraft
from datacraft.clean.blockstats import TextStats
from datacraft.clean.checks import load_block, record_filter
from datacraft.clean.config import CleanConfig
from datacraft.clean.normalize import Normalizer

BLOCK = 256
records = [orjson.loads(line) for line in open(sys.argv[1], "rb")]
warm, records = records[:2048], records[2048:2048 + int(sys.argv[2])]
config = CleanConfig()


def run(records, warm=False):
    normalizer = Normalizer(config.normalize)
    stats = TextStats(config.filters.max_char_run)
    if warm and hasattr(stats, "compiled"):  # load numba's compiled kernels now, not in the timed run
        from datacraft.clean import kernel
        normalizer.compiled = stats.compiled = True if kernel.available() else None
    keep = record_filter(config.filters, stats)
    t0 = time.process_time()
    normalised = []
    for s in range(0, len(records), BLOCK):
        batch = records[s:s + BLOCK]
        normalizer.load_block(batch)
        normalised.extend(map(normalizer, batch))
    t1 = time.process_time()
    verdicts = []
    for s in range(0, len(normalised), BLOCK):
        batch = normalised[s:s + BLOCK]
        load_block(stats, batch)
        verdicts.extend(map(keep, batch))
    t2 = time.process_time()
    return normalised, verdicts, t1 - t0, t2 - t1


run(warm, warm=True)  # tables, regex compilation, numba's cache: paid once per process, not per record
normalised, verdicts, t_norm, t_filt = run(records)
h = hashlib.sha256()
for record, verdict in zip(normalised, verdicts):
    h.update(orjson.dumps(record))
    h.update(orjson.dumps(verdict))
n = len(records)
print(json.dumps({"datacraft": datacraft.__file__, "n": n, "normalise_us": t_norm / n * 1e6,
                  "filters_us": t_filt / n * 1e6, "clean_us": (t_norm + t_filt) / n * 1e6,
                  "kept": sum(v[0] for v in verdicts), "digest": h.hexdigest()[:16]}))
"""


def corpus(n: int) -> Path:
    sys.path.insert(0, str(ROOT))
    from bench.bench_pipeline import write_corpus

    folder = Path(tempfile.gettempdir()) / "datacraft-bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"clean_{n + 2048}.jsonl"
    if not path.exists():
        write_corpus(path, n + 2048)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--code", type=Path, nargs="+", default=[ROOT], help="datacraft checkouts to compare")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    data = corpus(args.records)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print("| round | code | normalise µs | filters µs | clean µs | kept | digest |")
    print("|---|---|---|---|---|---|---|")
    for r in range(args.rounds):
        for code in args.code:
            env = {**os.environ, "PYTHONPATH": str(code.resolve())}
            done = subprocess.run([sys.executable, "-c", _CHILD, str(data), str(args.records)], env=env,
                                  cwd=tempfile.gettempdir(), capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(done.stderr[-3000:])
            out = json.loads(done.stdout.splitlines()[-1])
            if not out["datacraft"].startswith(str(code.resolve())):
                raise SystemExit(f"imported {out['datacraft']}, not {code}")
            print(f"| {r + 1} | {code} | {out['normalise_us']:.1f} | {out['filters_us']:.1f} | "
                  f"{out['clean_us']:.1f} | {out['kept']:,} | {out['digest']} |", flush=True)


if __name__ == "__main__":
    main()
