"""Benchmark the JSON and JSON Lines readers (issue 10) against named baselines, in the same run.

JSON arrays. Contender: `datacraft.io.iter_rows` (mmap, a regex for candidate element ends, orjson
on each element's slice, line numbers kept). Baselines: the reader before issue 10 (the whole file
decoded to text, then `json.JSONDecoder.raw_decode` element by element, a Row each: "stdlib
raw_decode (before)"; it stopped at the first `]`, so it reads less than datacraft does now),
and `orjson.loads` of the whole file (no line numbers, everything in memory: the floor).

JSON Lines. Contender: `iter_rows` (a line per row, with the NaN/big-int/duplicate-key checks).
Baseline: a bare loop of `orjson.loads` over the file's lines.

Each contender runs in a fresh subprocess; CPU time (user + system) and peak RSS growth are
reported, as wall time depends on what else the machine runs.

Run: .venv/bin/python bench/bench_readers.py [--n 200000] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

WORDS = ("data model train answer question explain list write summary python sort language token "
         "数据 模型 训练 回答 问题 解释 写 总结 中文 翻译 句子 文本").split()

RUNNERS = {
    "datacraft": "n = sum(1 for _ in iter_rows(PATH))",
    # The reader before issue 10, verbatim in its hot loop: the file decoded whole, then
    # json.JSONDecoder.raw_decode element by element, a Row per element.
    "stdlib raw_decode (before)": """
from datacraft.io.readers import Row
from datacraft.io.encoding import open_text

def old(path, text):
    decoder = json.JSONDecoder()
    stripped = text.lstrip()
    pos = len(text) - len(stripped) + 1
    line, counted_to = 1, 0
    n = len(text)
    while True:
        while pos < n and text[pos] in " \\t\\r\\n,":
            pos += 1
        if text[pos] == "]":
            return
        line += text.count("\\n", counted_to, pos)
        counted_to = pos
        value, pos = decoder.raw_decode(text, pos)
        yield Row(path, line, value)

with open(PATH, "rb") as binary:
    n = sum(1 for _ in old(PATH, open_text(binary, PATH).read()))
""",
    # The JSON Lines loop before issue 10, verbatim: orjson per line, a Row each, no value checks.
    "JSONL reader (before)": """
from datacraft.io.readers import Row
n = 0
with open(PATH, "rb") as raw:
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        data = line.rstrip()
        try:
            row = Row(PATH, number, orjson.loads(data))
        except orjson.JSONDecodeError:
            continue
        n += 1
""",
    "orjson whole file": "n = len(orjson.loads(open(PATH, 'rb').read()))",
    "orjson per line": "n = 0\nfor line in open(PATH, 'rb'):\n    orjson.loads(line)\n    n += 1",
}


def make_inputs(folder: Path, n: int, seed: int = 7) -> dict[str, Path]:
    rng = random.Random(seed)

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))

    pool = [{"instruction": text(4, 16), "input": text(0, 8), "output": text(10, 50)} for _ in range(5000)]
    rows = [{**pool[i % len(pool)], "instruction": f"{i}. {pool[i % len(pool)]['instruction']}"} for i in range(n)]
    array, minified, lines = folder / "rows.json", folder / "min.json", folder / "rows.jsonl"
    array.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    minified.write_bytes(orjson.dumps(rows))
    lines.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return {"JSON array (indent 2)": array, "JSON array (minified)": minified, "JSONL": lines}


def run(runner: str, path: Path) -> dict[str, float]:
    code = f"""
import json, resource, sys
import orjson
from datacraft.io import iter_rows  # every runner pays the same imports, before the clock starts
PATH = {str(path)!r}
base = resource.getrusage(resource.RUSAGE_SELF)
rss0 = int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])
{RUNNERS[runner]}
used = resource.getrusage(resource.RUSAGE_SELF)
peak = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])
print(n, used.ru_utime + used.ru_stime - base.ru_utime - base.ru_stime, (peak - rss0) / 1024)
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    n, cpu, growth = out.split()
    return {"n": int(n), "cpu": float(cpu), "growth": float(growth)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp), args.n)
        print("| input | MB | reader | records | CPU s | records per CPU-s | vs datacraft | RSS growth MB |")
        print("|---|---|---|---|---|---|---|---|")
        for name, path in inputs.items():
            names = ["datacraft", "JSONL reader (before)", "orjson per line"] if name == "JSONL" else ["datacraft", "stdlib raw_decode (before)",
                                                                            "orjson whole file"]
            results = {r: run(r, path) for r in names}
            ours = results["datacraft"]
            for runner, res in results.items():
                assert res["n"] == args.n, (runner, res)
                ratio = res["cpu"] / ours["cpu"] if ours["cpu"] else float("nan")
                print(f"| {name} | {path.stat().st_size / 1e6:.0f} | {runner} | {res['n']:,} | {res['cpu']:.2f} | "
                      f"{res['n'] / res['cpu']:,.0f} | {ratio:.2f}x | {res['growth']:.0f} |")
    print(f"\nmachine: nproc {os.cpu_count()}, Python {sys.version.split()[0]}, orjson {orjson.__version__}; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
