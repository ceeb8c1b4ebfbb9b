"""The whole batch pipeline: `datacraft run` (read -> clean -> dedupe -> validate -> export) at N records.

The corpus is `bench/synth.py`'s zh/en Alpaca records (planted exact and near copies) with planted
defects on 12% of them, of the kinds `clean` exists for: mojibake, HTML junk, full-width ASCII,
zero-width characters and space runs, answer labels, wrapping quotes, looping output, refusals,
junk symbols, a Markdown rule or a 200-dash separator line, code blocks. Each size runs in a
subprocess; the script prints its CPU (user + system), wall, peak RSS (the child's VmHWM), the
per-stage CPU seconds from `manifest.json`, and the floor measured in the same run: read every line,
parse it, hash its text and write it back out (orjson + xxhash), which no pipeline can beat.
The train/validation digests let two code versions be compared on the same corpus.
Before the timed run, a 20k-record run of the same pipeline fills numba's kernel cache (compiled once
per install, as a user's first run does); its cost is the `warmup` entry of the JSON line on stderr.

    .venv/bin/python bench/bench_pipeline.py                    # 100k, 300k, 1M
    .venv/bin/python bench/bench_pipeline.py --sizes 100000 --keep /tmp/run100k
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.synth import generate  # noqa: E402

DEFECT_RATE = 0.12
_REFUSALS = ("As an AI language model, I cannot help with that request.", "作为一个AI语言模型，我无法回答这个问题。",
             "I'm sorry, but I can't provide that information.", "很抱歉，我无法提供这方面的帮助。")
_JUNK = "★☆※◆◇■□▲△●○♥♦♣♠✓✔✗✘☀☁"


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def plant(record: dict, kind: int, rng: np.random.Generator) -> dict:
    """One defect of kind `kind` in a copy of `record` (some are fixed by normalise, some filtered)."""
    out = dict(record)
    text = out["output"]
    cut = len(text) // 2
    if kind == 0:  # mojibake of a span
        out["output"] = text[:cut] + _mojibake(text[cut:cut + 40]) + text[cut + 40:]
    elif kind == 1:  # HTML junk
        out["output"] = f"<p>{text[:cut]}</p><br/><div class=\"x\">{text[cut:]}&nbsp;&amp;</div>"
    elif kind == 2:  # full-width ASCII
        out["instruction"] = _fullwidth(out["instruction"])
    elif kind == 3:  # zero-width characters, space runs, CRLF, blank lines
        out["output"] = text[:cut].replace(" ", "   ") + "\u200b\r\n\r\n\r\n\r\n" + text[cut:] + "  \t "
    elif kind == 4:  # answer label and wrapping quotes
        out["output"] = "答案：“" + text + "”" if not text.isascii() else "Answer: \"" + text + "\""
    elif kind == 5:  # a looping answer
        out["output"] = text[:cut] + (text[:60] + " ") * 12
    elif kind == 6:  # a refusal
        out["output"] = _REFUSALS[int(rng.integers(0, len(_REFUSALS)))] + " " + text[:80]
    elif kind == 7:  # junk symbols
        out["output"] = "".join(_JUNK[int(i)] for i in rng.integers(0, len(_JUNK), 80)) + text[:40]
    elif kind == 8:  # a Markdown rule, or the 200-dash line that once hung clean
        rule = "-" * 200 + " 分割线" if rng.random() < 0.1 else "| a | b |\n|---|---|\n| 1 | 2 |"
        out["output"] = text[:cut] + "\n" + rule + "\n" + text[cut:]
    elif kind == 9:  # a code block and inline code
        out["output"] = text[:cut] + "\n```python\ndef f(x):\n    return x  # 　keep\n```\n用 `f(1)` 调用。" + text[cut:]
    elif kind == 10:  # an output that only repeats the instruction
        out["output"] = out["instruction"]
    else:  # an empty output
        out["output"] = "   "
    return out


PART = 1_000_000  # larger corpora are independent 1M draws (seeds seed, seed+1, ...), ids prefixed p1-, p2-


def write_corpus(path: Path, n: int, seed: int = 0) -> None:
    """`n` synthetic records with planted duplicates and planted defects, as JSONL.

    Past `PART` records the corpus is made of parts of `PART` (the last one shorter), each its own
    draw: generating 3M at once holds about 14 GB, a part about 4.7 GB.
    """
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        for part, lo in enumerate(range(0, n, PART)):
            _write_part(fh, min(PART, n - lo), seed + part, prefix=f"p{part}-" if part else "")
    os.replace(tmp, path)


def _write_part(fh, n: int, seed: int, prefix: str) -> None:
    corpus = generate(n, seed)
    rng = np.random.default_rng(seed + 1)
    defects = rng.random(n) < DEFECT_RATE
    kinds = rng.integers(0, 12, n)
    for i, record in enumerate(corpus.records):
        if defects[i]:
            record = plant(record, int(kinds[i]), rng)
        if prefix:
            record = {**record, "id": prefix + record["id"]}
        fh.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))


WARMUP_RECORDS = 20_000

PIPELINE = """name: bench
output_dir: {out}
inputs:
  - path: {data}
stages:
  - read
  - clean
  - dedupe
  - validate
  - export:
      format: sharegpt
      val_size: 0.05
"""

# A child's peak RSS from /proc (ru_maxrss of children is the largest child ever, not this one's).
_CHILD = """
import atexit, sys
def peak():
    hwm = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")]
    sys.stderr.write("PEAK_RSS_KB " + hwm[0] + "\\n")
atexit.register(peak)
{body}
"""

_FLOOR = """
import orjson, xxhash
out = open({out!r}, "wb")
for line in open({data!r}, "rb"):
    record = orjson.loads(line)
    text = "\\n".join(str(record.get(f) or "") for f in ("instruction", "input", "output"))
    record["meta"] = {{"hash": xxhash.xxh3_128_hexdigest(text.encode())}}
    out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
out.close()
"""


def child(body: str, env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run `body` in a fresh interpreter: wall, CPU (user + system) and peak RSS of that child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # `-c` puts the working directory first on sys.path: run elsewhere than a checkout, so that
    # PYTHONPATH (the code under test) decides which datacraft is imported.
    done = subprocess.run([sys.executable, "-c", _CHILD.format(body=body)], check=False, text=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    if done.returncode:
        raise SystemExit(f"child exited {done.returncode}:\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = int(done.stderr.split("PEAK_RSS_KB")[-1].split()[0]) / 1024
    imported = [line.split(" ", 1)[1] for line in done.stderr.splitlines() if line.startswith("DATACRAFT ")]
    return {"datacraft": imported[0] if imported else None, "wall_s": wall, "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "user_s": after.ru_utime - before.ru_utime, "peak_rss_mib": peak}


def digest(folder: Path) -> str:
    """sha256 over the train and validation files (the dataset a trainer would see)."""
    h = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.name.endswith(("_train.jsonl", "_validation.jsonl"))):
        h.update(name.encode())
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def run_size(n: int, data_dir: Path, keep: Path | None, code: Path) -> dict:
    data = data_dir / f"pipeline_{n}.jsonl"
    if not data.exists():
        print(f"generating {n} records -> {data}", file=sys.stderr)
        write_corpus(data, n)
    work = keep or Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    config = work / "pipeline.yaml"
    config.write_text(PIPELINE.format(out=work / "out", data=data))
    # Run a snapshot of the code: a checkout edited or merged during a long run would otherwise feed
    # the child two versions of datacraft (how the first 1M run died after dedupe).
    snapshot = work / "code"
    for part in ("datacraft", "schemas", "prompts"):  # the package and the folders it loads (resources.py)
        shutil.copytree(code / part, snapshot / part, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(snapshot)}
    # numba compiles its kernels on first use and caches them next to the source (`cache=True`), so
    # a user pays that once per install; a fresh snapshot would pay it in the timed run. A small run
    # of the same pipeline (20k records, enough for every compiled kernel to take over) fills the
    # cache first; its cost is reported as `warmup`.
    warm = work / "warmup"
    warm.mkdir()
    with open(data, "rb") as src, open(warm / "data.jsonl", "wb") as dst:
        dst.writelines(itertools.islice(src, WARMUP_RECORDS))
    (warm / "pipeline.yaml").write_text(PIPELINE.format(out=warm / "out", data=warm / "data.jsonl"))
    warmup = child(f"from datacraft.cli import cli\nsys.argv = ['datacraft', 'run', '--quiet', {str(warm / 'pipeline.yaml')!r}]\ncli()",
                   env, work)
    shutil.rmtree(warm)
    floor = child(_FLOOR.format(out=str(work / "floor.jsonl"), data=str(data)), env, work)
    run = child("import datacraft\nsys.stderr.write('DATACRAFT ' + datacraft.__file__ + '\\n')\n"
                f"from datacraft.cli import cli\nsys.argv = ['datacraft', 'run', '--quiet', {str(config)!r}]\ncli()",
                env, work)
    if not run["datacraft"].startswith(str(snapshot)):
        raise SystemExit(f"the run imported {run['datacraft']}, not the code under test in {snapshot}")
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    stages = {s["stage"]: s["seconds"] for s in manifest["stages"]}
    stages_cpu = {s["stage"]: s.get("cpu_seconds", 0.0) for s in manifest["stages"]}
    export = next(p for p in (work / "out").iterdir() if p.is_dir() and p.name.endswith("_export"))
    result = {"n": n, "mb": data.stat().st_size / 1e6, "warmup": warmup, "floor": floor, "run": run, "stages_wall_s": stages, "stages_cpu_s": stages_cpu,
              "totals": manifest["totals"], "digest": digest(export)}
    if keep is None:
        shutil.rmtree(work)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "datacraft-bench")
    parser.add_argument("--keep", type=Path, help="keep the run folder here (one size only)")
    parser.add_argument("--code", type=Path, default=ROOT, help="datacraft checkout to run (compare two versions)")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start (shared)")
    print("| N | MB | floor CPU s | run CPU s | ratio to floor | run wall s | peak RSS MiB | "
          "read / clean / dedupe / validate / export CPU s | µs CPU/record | kept | digest |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        r = run_size(n, args.data_dir, args.keep, args.code.resolve())
        s = r["stages_cpu_s"]
        split = " / ".join(f"{s.get(k, 0):.1f}" for k in ("read", "clean", "dedupe", "validate", "export"))
        print(f"| {n:,} | {r['mb']:.0f} | {r['floor']['cpu_s']:.1f} | {r['run']['cpu_s']:.1f} | "
              f"{r['run']['cpu_s'] / r['floor']['cpu_s']:.1f}x | {r['run']['wall_s']:.1f} | "
              f"{r['run']['peak_rss_mib']:.0f} | {split} | {r['run']['cpu_s'] / n * 1e6:.0f} | "
              f"{r['totals']['kept']:,} | {r['digest'][:16]} |", flush=True)
        print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
