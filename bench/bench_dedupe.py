"""Dedupe benchmarks: near-duplicate removal vs datasketch, and 1M records end to end.

1. The same N records (default 100k) through datacraft's `near_dedupe` stage and through
   datasketch (MinHash.bulk -> update_batch per record, MinHashLSH query-then-insert, as
   distilabel's MinHashDedup does), with the same normalisation and the same shingles, num_perm
   128, threshold 0.8. Prints throughput, the ratio, and precision/recall against the planted groups.
2. 1M records through `datacraft dedupe` (exact + near, JSONL in and out) in a subprocess:
   wall time and peak RSS.

    .venv/bin/python bench/bench_dedupe.py                 # both parts
    .venv/bin/python bench/bench_dedupe.py --large 0       # comparison only
    .venv/bin/python bench/bench_dedupe.py --versus DIR    # CPU time vs a baseline checkout, interleaved
    .venv/bin/python bench/bench_dedupe.py --scale 100000,300000,1000000,3000000   # the scaling curve
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.synth import write_corpus  # noqa: E402
from datacraft.dedupe import DedupeConfig, dedupe_file, near_dedupe  # noqa: E402
from datacraft.dedupe.normalize import field_text, normalize  # noqa: E402
from datacraft.dedupe.shingles import _TOKEN, shingles  # noqa: E402
from datacraft.records import TEXT_FIELDS  # noqa: E402
from datacraft.stages import Ledger, RejectSink  # noqa: E402


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) // 1024 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"numpy {np.__version__}, load average {load:.2f} at start")


def corpus(data_dir: Path, n: int, seed: int) -> tuple[Path, list[list[int]]]:
    path = data_dir / f"synth_{n}_{seed}.jsonl"
    truth = path.with_suffix(".truth.json")
    if not truth.exists():
        print(f"generating {n} records -> {path}", file=sys.stderr)
        write_corpus(path, n, seed)
    return path, json.loads(truth.read_text())["groups"]


def score(matches: dict[int, set[int]], groups: list[list[int]]) -> tuple[float, float]:
    """Precision/recall of removals: a removed record is right when it matched a member of its group."""
    group_of = {m: g for g, members in enumerate(groups) for m in members}
    right = sum(1 for r, found in matches.items() if r in group_of and any(group_of.get(f) == group_of[r] for f in found))
    should = sum(len(m) - 1 for m in groups)
    return right / max(len(matches), 1), right / should


class Collect(RejectSink):
    def __init__(self) -> None:
        super().__init__(None)
        self.dup_of: dict[str, str] = {}

    def write(self, stage, reason, *, record=None, **extra) -> None:
        self.dup_of[record["id"]] = extra["dup_of"]


def run_datacraft(records: list[dict], config: DedupeConfig) -> tuple[float, float, dict[int, set[int]]]:
    sink = Collect()
    started, cpu = time.perf_counter(), time.process_time()
    kept = sum(1 for _ in near_dedupe(Ledger(sink), config)(iter(records)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert kept + len(sink.dup_of) == len(records)
    return seconds, cpu, {int(r[1:]): {int(d[1:])} for r, d in sink.dup_of.items()}


def python_shingles(record: dict, config: DedupeConfig) -> list[bytes]:
    """The same shingles as datacraft's, the fastest way we found in plain Python (set of bytes)."""
    tokens = _TOKEN.findall(normalize(field_text(record, TEXT_FIELDS)))
    if not tokens:
        return []
    cjk = sum(1 for t in tokens if t >= "\u2e80")
    n = config.ngram_cjk if 2 * cjk >= len(tokens) else config.ngram_word
    if len(tokens) < n:
        return [" ".join(tokens).encode()]
    return list({" ".join(g).encode() for g in zip(*[tokens[i:] for i in range(n)])})  # noqa: B905


def run_datasketch(records: list[dict], config: DedupeConfig, hashfunc) -> tuple[dict[str, float], dict[int, set[int]]]:
    from datasketch import MinHash, MinHashLSH

    t0, cpu = time.perf_counter(), time.process_time()
    sets = [python_shingles(r, config) for r in records]
    t1 = time.perf_counter()
    kwargs = {"num_perm": config.num_perm} | ({"hashfunc": hashfunc} if hashfunc else {})
    hashes = MinHash.bulk(sets, **kwargs)
    t2 = time.perf_counter()
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    matches: dict[int, set[int]] = {}
    for i, (mh, sh) in enumerate(zip(hashes, sets, strict=True)):
        if not sh:
            continue
        found = lsh.query(mh)
        if found:
            matches[i] = set(found)
        else:
            lsh.insert(i, mh)
    t3 = time.perf_counter()
    times = {"shingle": t1 - t0, "minhash": t2 - t1, "lsh": t3 - t2, "total": t3 - t0, "cpu": time.process_time() - cpu}
    return times, matches


def true_jaccard(records: list[dict], groups: list[list[int]], config: DedupeConfig) -> np.ndarray:
    """Exact Jaccard of each planted copy with the first member of its group."""
    def sset(i: int) -> set[str]:
        return set(shingles(normalize(field_text(records[i], TEXT_FIELDS)), config.ngram_cjk, config.ngram_word))
    out = []
    for members in groups:
        base = sset(members[0])
        for m in members[1:]:
            other = sset(m)
            out.append(len(base & other) / max(len(base | other), 1))
    return np.array(out)


def compare(args: argparse.Namespace, config: DedupeConfig) -> dict:
    path, groups = corpus(args.data_dir, args.compare, args.seed)
    lines = path.read_bytes().splitlines()

    def fresh() -> list[dict]:  # new string objects each run: no UTF-8 caches left over from the last one
        return [orjson.loads(line) for line in lines]

    records = fresh()
    jac = true_jaccard(records, groups, config)
    dc_s, dc_cpu, dc_m = run_datacraft(fresh(), config)
    for _ in range(2):  # best of three: the machine is shared, and this run is short
        again = run_datacraft(fresh(), config)
        dc_s, dc_cpu = min(dc_s, again[0]), min(dc_cpu, again[1])
    n_ds = args.datasketch_n or len(records)
    sub_groups = [[m for m in g if m < n_ds] for g in groups]
    sub_groups = [g for g in sub_groups if len(g) > 1]
    result = {"n": len(records), "datacraft_s": dc_s, "datacraft_cpu": dc_cpu, "datacraft_pr": score(dc_m, groups),
              "planted_copies": len(jac), "planted_j_ge_threshold": float((jac >= config.threshold).mean()),
              "planted_j_quartiles": np.percentile(jac, [0, 5, 25, 50]).round(3).tolist(), "datasketch": {}}
    import xxhash
    for name, fn in (("sha1 (default)", None), ("xxh32", xxhash.xxh32_intdigest)):
        times, matches = run_datasketch(fresh()[:n_ds], config, fn)
        result["datasketch"][name] = {"n": n_ds, **times, "pr": score(matches, sub_groups)}
    return result


# The child reports its own high-water mark: ru_maxrss would count the benchmark's memory too
# (a forked child starts with its parent's pages, and Linux carries that peak across exec).
_CHILD = """
import atexit, sys
def peak():
    hwm = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")]
    sys.stderr.write("PEAK_RSS_KB " + hwm[0] + "\\n")
atexit.register(peak)
from datacraft.cli import cli
cli()
"""


def large(args: argparse.Namespace) -> dict:
    path, groups = corpus(args.data_dir, args.large, args.seed)
    out = Path(tempfile.mkdtemp(prefix="dedupe-bench-"))
    cmd = [sys.executable, "-c", _CHILD, "dedupe", str(path), "-o", str(out / "out.jsonl"),
           "--rejects", str(out / "rejects.jsonl"), "--stats", str(out / "stats.json")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = int(done.stderr.split("PEAK_RSS_KB")[-1].split()[0]) / 1024
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    stats = json.loads((out / "stats.json").read_text())
    dup_of = {}
    for line in (out / "rejects.jsonl").read_bytes().splitlines():
        entry = orjson.loads(line)
        if "dup_of" in entry:  # not unreadable rows (read rejects)
            dup_of[int(entry["record"]["id"][1:])] = {int(entry["dup_of"][1:])}
    for f in out.iterdir():
        f.unlink()
    out.rmdir()
    return {"n": args.large, "wall_s": wall, "cpu_s": cpu, "peak_rss_mib": peak, "stats": stats, "pr": score(dup_of, groups),
            "mb": path.stat().st_size / 1e6}


def versus(args: argparse.Namespace) -> list[dict]:
    """`datacraft dedupe` on the same file through this code and through a baseline checkout, interleaved.

    Each round runs both (order alternating), in fresh subprocesses; CPU = the child's user + system.
    """
    path, groups = corpus(args.data_dir, args.versus_n, args.seed)
    out = Path(tempfile.mkdtemp(prefix="dedupe-versus-"))
    codes = {"baseline": args.versus, "this code": Path(__file__).resolve().parent.parent}
    runs = []
    for round_ in range(args.rounds):
        for name in (list(codes) if round_ % 2 == 0 else list(codes)[::-1]):
            env = dict(os.environ, PYTHONPATH=str(codes[name]))
            cmd = [sys.executable, "-c", _CHILD, "dedupe", str(path), "-o", str(out / "out.jsonl"),
                   "--rejects", str(out / "rejects.jsonl"), "--stats", str(out / "stats.json")]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, cwd=codes[name])
            wall = time.perf_counter() - started
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            stats = json.loads((out / "stats.json").read_text())
            runs.append({"code": name, "round": round_, "wall_s": wall, "kept": stats["kept"],
                         "cpu_s": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
                         "peak_rss_mib": int(done.stderr.split("PEAK_RSS_KB")[-1].split()[0]) / 1024,
                         "load": os.getloadavg()[0]})
            print(f"  round {round_} {name:<9}: CPU {runs[-1]['cpu_s']:.2f} s, wall {wall:.2f} s, "
                  f"peak RSS {runs[-1]['peak_rss_mib']:.0f} MiB, kept {stats['kept']:,}, load {runs[-1]['load']:.1f}",
                  flush=True)
    for f in out.iterdir():
        f.unlink()
    out.rmdir()
    return runs


def relabelled(data_dir: Path, n: int, seed: int, base_n: int) -> tuple[Path, list[list[int]]]:
    """An n-record corpus from k = n / base_n copies of the base_n corpus, copy j with its letters and CJK
    characters mapped through a fixed bijection of its own (a Caesar shift of a-z, a rotation of the CJK
    block): the same word statistics and planted groups (shifted by j * base_n), no text shared across copies.

    Generating 3M records with synth.py takes an hour on a shared 2-core machine; this takes a minute.
    """
    path = data_dir / f"synth_{n}_{seed}.jsonl"
    truth = path.with_suffix(".truth.json")
    if truth.exists():
        return path, json.loads(truth.read_text())["groups"]
    base, groups = corpus(data_dir, base_n, seed)
    copies = n // base_n
    assert copies * base_n == n, "n must be a multiple of the base corpus size"
    out_groups = []
    with open(str(path) + ".tmp", "w", encoding="utf-8") as out:
        for j in range(copies):
            shift, rot = j % 26, j * 7919 % 0x5200
            table = {c: (c - 97 + shift) % 26 + 97 for c in range(97, 123)}
            table.update({c: (c - 65 + shift) % 26 + 65 for c in range(65, 91)})
            table.update({c: (c - 0x4E00 + rot) % 0x5200 + 0x4E00 for c in range(0x4E00, 0x9FFF + 1)})
            with open(base, encoding="utf-8") as src:
                for i, line in enumerate(src):
                    r = json.loads(line)
                    r = {k: v.translate(table) if isinstance(v, str) and k != "id" else v for k, v in r.items()}
                    r["id"] = f"s{j * base_n + i}"
                    out.write(json.dumps(r, ensure_ascii=False) + "\n")
            out_groups += [[m + j * base_n for m in g] for g in groups]
    os.replace(str(path) + ".tmp", path)
    truth.write_text(json.dumps({"n": n, "seed": seed, "groups": out_groups, "relabelled_from": base_n}))
    return path, out_groups


def scale(args: argparse.Namespace) -> list[dict]:
    """`datacraft dedupe` (exact + near, JSONL in and out) at each size: CPU, wall, peak RSS, P/R."""
    rows = []
    for n in args.scale:
        if n > args.scale_base:
            relabelled(args.data_dir, n, args.seed, args.scale_base)
        sub = argparse.Namespace(**{**vars(args), "large": n})
        r = large(sub)
        rows.append(r)
        p, rc = r["pr"]
        print(f"  {n:>9,} records ({r['mb']:,.0f} MB): CPU {r['cpu_s']:7.1f} s, wall {r['wall_s']:7.1f} s, "
              f"peak RSS {r['peak_rss_mib']:7,.0f} MiB, kept {r['stats']['kept']:,}, P {p:.3f} R {rc:.3f}, "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    ns = np.array([r["n"] for r in rows], float)
    for key in ("cpu_s", "wall_s", "peak_rss_mib"):
        ys = np.array([r[key] for r in rows], float)
        slope, icpt = np.polyfit(ns / 1e6, ys, 1)
        exp = np.polyfit(np.log(ns), np.log(ys), 1)[0]
        print(f"  {key}: {slope:,.1f} per million records + {icpt:,.1f} (least squares); log-log exponent {exp:.2f}")
    return rows


def breakdown(path: Path) -> dict[str, float]:
    """CPU seconds of the end-to-end pipeline built up one step at a time (differences = each step's cost)."""
    from datacraft.dedupe import exact_dedupe
    from datacraft.stages import read_stage

    def cpu(fn) -> float:
        started = time.process_time()
        fn()
        return time.process_time() - started

    def through(*stages) -> None:
        ledger = Ledger()
        ledger.stage("read")
        records = read_stage([str(path)], ledger)
        for stage in stages:
            records = stage(records)
        for _ in records:
            pass

    config = DedupeConfig()
    steps = {
        "read (JSONL parse)": lambda: through(),
        "+ exact_dedupe": lambda: through(exact_dedupe(Ledger())),
        "+ near_dedupe": lambda: through(exact_dedupe(Ledger()), near_dedupe(Ledger(), config)),
        "+ write output and rejects": lambda: dedupe_file([str(path)], str(path) + ".out",
                                                          rejects=str(path) + ".rej"),
    }
    through(exact_dedupe(Ledger()), near_dedupe(Ledger(), config))  # warm up: tables, caches, page cache
    out = {name: min(cpu(fn) for _ in range(3)) for name, fn in steps.items()}
    for suffix in (".out", ".rej"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=int, default=100_000, help="records for the datasketch comparison (0: skip)")
    parser.add_argument("--datasketch-n", type=int, default=0, help="time datasketch on the first N only (0: all)")
    parser.add_argument("--large", type=int, default=1_000_000, help="records for the end-to-end run (0: skip)")
    parser.add_argument("--breakdown", type=int, default=0, help="CPU time per pipeline step on N records (0: skip)")
    parser.add_argument("--versus", type=Path, help="a baseline checkout: time `datacraft dedupe` through it and this code")
    parser.add_argument("--versus-n", type=int, default=100_000, help="records for --versus")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds for --versus")
    parser.add_argument("--scale", type=lambda v: [int(x) for x in v.split(",")], default=None,
                        help="comma-separated sizes for the scaling curve, e.g. 100000,300000,1000000,3000000")
    parser.add_argument("--scale-base", type=int, default=1_000_000,
                        help="sizes above this are relabelled copies of the corpus of this size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "datacraft-bench")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    config = DedupeConfig()
    print(f"machine: {machine()}")
    print(f"config: num_perm {config.num_perm}, bands x rows {config.lsh_shape()}, threshold {config.threshold}, "
          f"ngram cjk/word {config.ngram_cjk}/{config.ngram_word}")
    if args.scale:
        print("\n== scaling: datacraft dedupe (exact + near), JSONL in and out, one process ==")
        scale(args)
        return
    if args.versus:
        print(f"\n== datacraft dedupe (CLI), {args.versus_n:,} records: baseline {args.versus} vs this code ==")
        runs = versus(args)
        median = {name: float(np.median([r["cpu_s"] for r in runs if r["code"] == name]))
                  for name in ("baseline", "this code")}
        print(f"median CPU: baseline {median['baseline']:.2f} s, this code {median['this code']:.2f} s, "
              f"ratio {median['this code'] / median['baseline']:.3f}")
        return
    if args.large:  # first: the comparison leaves a big heap behind in this process
        large_result = large(args)
    if args.compare:
        r = compare(args, config)
        p, rc = r["datacraft_pr"]
        print(f"\n== near-duplicate removal, {r['n']:,} records ==")
        print(f"planted copies {r['planted_copies']:,}; true Jaccard >= {config.threshold}: "
              f"{r['planted_j_ge_threshold']:.1%}; min/p5/p25/median {r['planted_j_quartiles']}")
        print(f"datacraft near_dedupe: {r['datacraft_s']:.2f} s = {r['n'] / r['datacraft_s']:,.0f} rec/s "
              f"(CPU {r['datacraft_cpu']:.2f} s), precision {p:.4f} recall {rc:.4f}")
        for name, d in r["datasketch"].items():
            rate = d["n"] / d["total"]
            dp, dr = d["pr"]
            cpu_ratio = (d["cpu"] / d["n"]) / (r["datacraft_cpu"] / r["n"])
            print(f"datasketch [{name}] on {d['n']:,}: {d['total']:.2f} s = {rate:,.0f} rec/s (CPU {d['cpu']:.1f} s; "
                  f"shingle {d['shingle']:.1f} s, MinHash {d['minhash']:.1f} s, LSH {d['lsh']:.1f} s), "
                  f"precision {dp:.4f} recall {dr:.4f}; datacraft is {r['n'] / r['datacraft_s'] / rate:.1f}x faster "
                  f"({cpu_ratio:.1f}x by CPU time)")
    if args.large:
        r = large_result
        p, rc = r["pr"]
        print(f"\n== datacraft dedupe (exact + near, JSONL in/out), {r['n']:,} records, {r['mb']:,.0f} MB ==")
        print(f"wall {r['wall_s']:.1f} s = {r['n'] / r['wall_s']:,.0f} rec/s (CPU {r['cpu_s']:.1f} s), "
              f"peak RSS {r['peak_rss_mib']:,.0f} MiB, "
              f"kept {r['stats']['kept']:,}, reasons {r['stats']['reasons']}, precision {p:.4f} recall {rc:.4f}")
        print("  stage seconds: " + ", ".join(f"{k} {v['seconds']:.1f}" for k, v in r["stats"]["stages"].items()))
    if args.breakdown:
        path, _ = corpus(args.data_dir, args.breakdown, args.seed)
        print(f"\n== CPU seconds per step, {args.breakdown:,} records (cumulative) ==")
        previous = 0.0
        for name, seconds in breakdown(path).items():
            print(f"{name:<28} {seconds:6.2f} s  (step {seconds - previous:5.2f} s = "
                  f"{(seconds - previous) / args.breakdown * 1e6:.1f} us/record)")
            previous = seconds
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
