"""Near-dedupe against its peers, file to file: datacraft, rensa, datasketch, datatrove, text-dedup.

One interleaved run (the order rotates each round) over the same corpus: `bench/synth.py`'s
Alpaca records with planted exact and near copies and known groups. Every tool runs in a fresh
subprocess from the same JSONL file to its kept records, at threshold 0.8 and 128 permutations:

- datacraft: `datacraft dedupe IN -o OUT --rejects R --threshold 0.8` (exact + near, its CLI).
- rensa 0.5 (Rust) and datasketch 2 (`MinHash.bulk`, xxh32): they take shingle sets, not text, so
  the child reads with orjson, makes datacraft's shingles in Python (`python_shingles`: the same
  normalisation, word 3-grams / CJK 2-grams), then MinHash + LSH query-then-insert (rensa: 16
  bands, its documented setting; datasketch: its own optimum for 0.8), and writes the kept records.
  The child also reports its MinHash + LSH time alone ("kernel only": shingles given for free).
- datatrove (`MinhashDedupSignature`, `Buckets`, `Cluster`, `Filter` on the local executor, one
  task each, 3-grams, 16 buckets x 8 hashes) and text-dedup (`text_dedup.minhash`, 3-grams,
  xxh3, one process) read a copy of the corpus with one `text` field (instruction, input, output
  joined by newlines; made before the run, not timed). They are peers to measure, not
  dependencies: they run under `--peer-python` (a separate venv), and are skipped with the
  reason when it lacks them.

CPU = the child's user + system time; peak RSS = the child's VmHWM. Precision and recall from the
kept set: within a planted group of size s, up to s-1 removals are right (all s removed: s-1 right,
one wrong); a removal outside every group is wrong; recall = right / sum(s - 1).

    .venv/bin/python bench/bench_dedupe_peers.py --n 100000 --rounds 3 --peer-python /work/peers-venv/bin/python
    .venv/bin/python bench/bench_dedupe_peers.py --n 100000 --rounds 3 --like-for-like
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_dedupe import corpus, machine  # noqa: E402

THRESHOLD, NUM_PERM, NGRAM = 0.8, 128, 3

_PEAK = """
import atexit, sys
def _peak():
    hwm = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")]
    sys.stderr.write("PEAK_RSS_KB " + hwm[0] + "\\n")
atexit.register(_peak)
"""

DATACRAFT = _PEAK + """
from datacraft.cli import cli
cli()
"""

# rensa / datasketch: argv = corpus, kept output, result json
SHINGLE_LSH = _PEAK + """
import json, sys, time, orjson
sys.path.insert(0, {root!r})
from bench.bench_dedupe import python_shingles
from datacraft.dedupe import DedupeConfig
config = DedupeConfig(threshold={threshold})
src, out, result = sys.argv[1:4]
t0 = time.process_time()
with open(src, "rb") as fh:
    records = [orjson.loads(line) for line in fh]
t1 = time.process_time()
sets = [python_shingles(r, config) for r in records]
t2 = time.process_time()
{lsh}
t3 = time.process_time()
with open(out, "wb") as fh:
    for r, k in zip(records, keep):
        if k:
            fh.write(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE))
removed = [r["id"] for r, k in zip(records, keep) if not k]
json.dump({{"removed": removed, "kernel_cpu": t3 - t2, "shingle_cpu": t2 - t1}}, open(result, "w"))
"""

# the same query-then-insert loops as bench_dedupe_e2e.py (rensa: 16 bands, its documented setting)
RENSA = "from bench.bench_dedupe_e2e import rensa_lsh\nkeep = rensa_lsh(sets, config)"
DATASKETCH = "from bench.bench_dedupe_e2e import datasketch_lsh\nkeep = datasketch_lsh(sets, config)"

# argv = text corpus, work dir, result json
DATATROVE = _PEAK + """
import json, sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
src, work, result = sys.argv[1:4]
config = MinhashConfig(n_grams={ngram}, num_buckets=16, hashes_per_bucket=8)
reader = lambda: JsonlReader(src.rsplit("/", 1)[0], glob_pattern=src.rsplit("/", 1)[1], id_key="id")
logs = work + "/logs"
steps = [
    [reader(), MinhashDedupSignature(output_folder=work + "/sigs", config=config)],
    [MinhashDedupBuckets(input_folder=work + "/sigs", output_folder=work + "/buckets", config=config)],
    [MinhashDedupCluster(input_folder=work + "/buckets", output_folder=work + "/remove_ids", config=config)],
    [reader(), MinhashDedupFilter(input_folder=work + "/remove_ids",
                                  exclusion_writer=JsonlWriter(work + "/removed", compression=None)),
     JsonlWriter(work + "/kept", compression=None)],
]
for name, pipeline in zip(("sigs", "buckets", "cluster", "filter"), steps):
    tasks = config.num_buckets if name == "buckets" else 1
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=logs + "/" + name).run()
import glob
removed = [json.loads(line)["id"] for f in glob.glob(work + "/removed/*") for line in open(f)]
json.dump({{"removed": removed}}, open(result, "w"))
"""

TEXT_DEDUP = _PEAK + """
import json, sys
from text_dedup.minhash import main
src, work, result = sys.argv[1:4]
main([ "--path", "json", "--data_files", src, "--split", "train", "--cache_dir", work + "/cache",
      "--output", work + "/out", "--column", "text", "--num_proc", "1", "--ngram", "{ngram}",
      "--threshold", "{threshold}", "--num_perm", "{num_perm}", "--hash_func", "xxh3"], standalone_mode=False)
import datasets
kept = set(datasets.load_from_disk(work + "/out")["id"])
ids = [json.loads(line)["id"] for line in open(src)]
json.dump({{"removed": [i for i in ids if i not in kept]}}, open(result, "w"))
"""


def text_corpus(path: Path) -> Path:
    """The corpus with one `text` field per record, for the peers that dedupe one column."""
    out = path.with_suffix(".text.jsonl")
    if not out.exists():
        with open(path) as src, open(str(out) + ".tmp", "w") as dst:
            for line in src:
                r = json.loads(line)
                dst.write(json.dumps({"id": r["id"], "text": "\n".join([r["instruction"], r["input"], r["output"]])},
                                     ensure_ascii=False) + "\n")
        os.replace(str(out) + ".tmp", out)
    return out


def score(removed: list[str], groups: list[list[int]]) -> tuple[float, float]:
    """Precision and recall of the removals from the kept set (see the module docstring)."""
    gone = {int(str(r).lstrip("s")) for r in removed}
    right = sum(min(sum(m in gone for m in g), len(g) - 1) for g in groups)
    should = sum(len(g) - 1 for g in groups)
    return right / max(len(gone), 1), right / should


def tools(args: argparse.Namespace, path: Path, text: Path) -> dict[str, tuple[list[str], dict | None] | str]:
    """name -> (command, env) to run, or the reason it is skipped."""
    fill = {"root": str(ROOT), "threshold": THRESHOLD, "num_perm": NUM_PERM, "ngram": NGRAM}
    main_env = dict(os.environ, PYTHONPATH=str(ROOT))
    out: dict[str, tuple[list[str], dict | None] | str] = {}
    out["datacraft"] = ([sys.executable, "-c", DATACRAFT, "dedupe", str(path), "-o", "{work}/kept.jsonl",
                         "--rejects", "{work}/rejects.jsonl", "--threshold", str(THRESHOLD)], main_env)
    # its default threshold (0.7), which rensa's 16 bands x 8 rows roughly matches: (1/16)^(1/8) = 0.71
    out["datacraft@0.7"] = ([sys.executable, "-c", DATACRAFT, "dedupe", str(path), "-o", "{work}/kept.jsonl",
                             "--rejects", "{work}/rejects.jsonl"], main_env)
    for name, lsh, module in (("rensa", RENSA, "rensa"), ("datasketch", DATASKETCH, "datasketch")):
        code = SHINGLE_LSH.format(lsh=lsh, **fill)
        out[name] = (([sys.executable, "-c", code, str(path), "{work}/kept.jsonl", "{work}/result.json"], main_env)
                     if _has(sys.executable, module) else f"{module} is not installed in {sys.executable}")
    peer = args.peer_python
    for name, code, module in (("datatrove", DATATROVE, "datatrove"), ("text-dedup", TEXT_DEDUP, "text_dedup")):
        if not peer or not Path(peer).exists():
            out[name] = f"no --peer-python interpreter ({peer or 'not given'})"
        elif not _has(peer, module):
            out[name] = f"{module} is not importable by {peer}"
        else:
            out[name] = ([peer, "-c", code.format(**fill), str(text), "{work}", "{work}/result.json"],
                         dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1"))
    return out


def _has(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def run_one(cmd: list[str], env: dict, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    cmd = [c.replace("{work}", str(work)) for c in cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=work)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    result = json.loads((work / "result.json").read_text()) if (work / "result.json").exists() else {}
    if "removed" not in result:  # datacraft: its rejects file
        result["removed"] = [json.loads(line)["record"]["id"] for line in open(work / "rejects.jsonl")]
    return {"cpu_s": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime, "wall_s": wall,
            "peak_rss_mib": int(done.stderr.split("PEAK_RSS_KB")[-1].split()[0]) / 1024,
            "kernel_cpu": result.get("kernel_cpu"), "removed": result["removed"], "load": os.getloadavg()[0]}


def like_for_like(path: Path, rounds: int) -> None:
    """In one process, interleaved: datacraft's near_dedupe stage (it normalises and shingles) against
    rensa's and datasketch's MinHash + LSH given the shingles for free (their best case)."""
    import gc

    import orjson

    from bench.bench_dedupe import python_shingles, run_datacraft
    from bench.bench_dedupe_e2e import datasketch_lsh, rensa_lsh
    from datacraft.dedupe import DedupeConfig

    config = DedupeConfig(threshold=THRESHOLD)
    lines = path.read_bytes().splitlines()
    sets = [python_shingles(orjson.loads(line), config) for line in lines]
    times: dict[str, list[float]] = {"datacraft near_dedupe (text in)": [], "rensa (shingles given)": [],
                                     "datasketch (shingles given)": []}
    for _ in range(rounds):
        records = [orjson.loads(line) for line in lines]
        gc.collect()
        times["datacraft near_dedupe (text in)"].append(run_datacraft(records, config)[1])
        for name, fn in (("rensa (shingles given)", rensa_lsh), ("datasketch (shingles given)", datasketch_lsh)):
            gc.collect()
            started = time.process_time()
            fn(sets, config)
            times[name].append(time.process_time() - started)
    dc = float(np.median(times["datacraft near_dedupe (text in)"]))
    print(f"\n| like for like, {len(lines):,} records, median of {rounds} | CPU s | x datacraft |\n|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {np.median(ts):.2f} | {np.median(ts) / dc:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="records in the corpus")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer-python", default=os.environ.get("PEER_PYTHON", "/work/peers-venv/bin/python"),
                        help="interpreter with datatrove and text-dedup installed (a separate venv)")
    parser.add_argument("--only", nargs="*", help="run these tools only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "datacraft-bench")
    parser.add_argument("--json", type=Path, help="also write every run here")
    parser.add_argument("--like-for-like", action="store_true",
                        help="only the in-process stage vs rensa/datasketch given shingles")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    path, groups = corpus(args.data_dir, args.n, args.seed)
    print(f"machine: {machine()} (shared with other jobs)")
    if args.like_for_like:
        like_for_like(path, args.rounds)
        return
    text = text_corpus(path)
    print(f"corpus: {path} ({args.n:,} records, {path.stat().st_size / 1e6:.0f} MB), planted groups {len(groups):,}, "
          f"copies to remove {sum(len(g) - 1 for g in groups):,}; threshold {THRESHOLD}, {NUM_PERM} permutations")
    table = tools(args, path, text)
    runnable = {k: v for k, v in table.items() if not isinstance(v, str) and (not args.only or k in args.only)}
    for name, why in table.items():
        if isinstance(why, str):
            print(f"skipped {name}: {why}")
    runs: list[dict] = []
    names = list(runnable)
    for round_ in range(args.rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            with tempfile.TemporaryDirectory(prefix=f"peers-{name}-") as work:
                r = run_one(*runnable[name], Path(work))
            p, rc = score(r.pop("removed"), groups)
            runs.append({"tool": name, "round": round_, **r, "precision": p, "recall": rc})
            k = f", kernel only {r['kernel_cpu']:.1f} s" if r["kernel_cpu"] is not None else ""
            print(f"  round {round_} {name:<10} CPU {r['cpu_s']:6.1f} s, wall {r['wall_s']:6.1f} s, "
                  f"peak RSS {r['peak_rss_mib']:6.0f} MiB, P {p:.3f} R {rc:.3f}{k}, load {r['load']:.1f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    med = {n: {key: float(np.median([r[key] for r in runs if r["tool"] == n]))
               for key in ("cpu_s", "wall_s", "peak_rss_mib", "precision", "recall")} for n in names}
    for n in names:
        ks = [r["kernel_cpu"] for r in runs if r["tool"] == n and r["kernel_cpu"] is not None]
        med[n]["kernel_cpu"] = float(np.median(ks)) if ks else None
    base = med.get("datacraft")
    print(f"\n| {args.n:,} records, median of {args.rounds} | CPU s | x datacraft | wall s | peak RSS MiB "
          "| precision | recall | MinHash+LSH only, shingles given: CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sorted(names, key=lambda n: med[n]["cpu_s"]):
        m = med[n]
        ratio = f"{m['cpu_s'] / base['cpu_s']:.1f}x" if base else "-"
        k = f"{m['kernel_cpu']:.1f}" if m["kernel_cpu"] is not None else "-"
        print(f"| {n} | {m['cpu_s']:.1f} | {ratio} | {m['wall_s']:.1f} | {m['peak_rss_mib']:,.0f} | "
              f"{m['precision']:.3f} | {m['recall']:.3f} | {k} |")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
