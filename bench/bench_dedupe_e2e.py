"""Near-duplicate removal end to end (JSONL file in, kept records out), against datasketch and rensa.

`bench_dedupe.py` compares datacraft's in-memory `near_dedupe` stage with datasketch *including*
datasketch's Python shingling. This script states the comparison three ways on the same records:

- end to end: read the JSONL file, dedupe, write the kept records (datacraft: `dedupe_file` with the
  exact stage off; the others: orjson parse, Python shingles, MinHash, LSH query-then-insert, orjson write);
- in memory, shingling included (records already parsed);
- like for like: in memory, shingles already made (MinHash + LSH only for datasketch and rensa;
  datacraft's stage still normalises and shingles, which it cannot skip).

Baselines: datasketch 2.x (`MinHash.bulk` with `hashfunc=xxh32`, `MinHashLSH`), rensa (`RMinHash`,
`RMinHashLSH`, Rust), and for the read step orjson against msgspec (`msgspec.json.Decoder`).

    .venv/bin/python bench/bench_dedupe_e2e.py 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bench_dedupe import corpus, python_shingles, run_datacraft  # noqa: E402
from datacraft.dedupe import DedupeConfig, dedupe_file  # noqa: E402


def cpu() -> float:
    return time.process_time()


def read(path: Path) -> list[dict]:
    with open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def write(path: Path, records: list[dict], keep: list[bool]) -> None:
    with open(path, "wb") as fh:
        for record, k in zip(records, keep, strict=True):
            if k:
                fh.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))


def datasketch_lsh(sets: list[list[bytes]], config: DedupeConfig) -> list[bool]:
    import xxhash
    from datasketch import MinHash, MinHashLSH

    hashes = MinHash.bulk(sets, num_perm=config.num_perm, hashfunc=xxhash.xxh32_intdigest)
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    keep = []
    for i, (mh, sh) in enumerate(zip(hashes, sets, strict=True)):
        if sh and lsh.query(mh):
            keep.append(False)
            continue
        if sh:
            lsh.insert(i, mh)
        keep.append(True)
    return keep


def rensa_lsh(sets: list[list[bytes]], config: DedupeConfig) -> list[bool]:
    from rensa import RMinHash, RMinHashLSH

    bands = 16  # rensa's documented example for threshold 0.8 at 128 permutations
    lsh = RMinHashLSH(threshold=config.threshold, num_perm=config.num_perm, num_bands=bands)
    keep = []
    for i, sh in enumerate(sets):
        if not sh:
            keep.append(True)
            continue
        mh = RMinHash(num_perm=config.num_perm, seed=42)
        mh.update([s.decode() for s in sh])
        if lsh.query(mh):
            keep.append(False)
            continue
        lsh.insert(i, mh)
        keep.append(True)
    return keep


def baseline(path: Path, out: Path, lsh, config: DedupeConfig) -> dict[str, float]:
    """End to end and in-memory CPU seconds of a Python-shingles + `lsh` baseline."""
    t0 = cpu()
    records = read(path)
    t1 = cpu()
    sets = [python_shingles(r, config) for r in records]
    t2 = cpu()
    keep = lsh(sets, config)
    t3 = cpu()
    write(out, records, keep)
    t4 = cpu()
    return {"end_to_end": t4 - t0, "in_memory": t3 - t1, "like_for_like": t3 - t2, "read": t1 - t0,
            "dropped": keep.count(False)}


def datacraft(path: Path, out: Path, config: DedupeConfig) -> dict[str, float]:
    t0 = cpu()
    stats = dedupe_file([str(path)], str(out), config=DedupeConfig(exact=False))
    t1 = cpu()
    records = read(path)
    stage_wall, stage_cpu, _ = run_datacraft(records, config)
    return {"end_to_end": t1 - t0, "in_memory": stage_cpu, "like_for_like": stage_cpu, "dropped": stats["rejected"]}


def read_floor(path: Path) -> dict[str, float]:
    import msgspec

    lines = path.read_bytes().splitlines()
    t0 = cpu()
    for line in lines:
        orjson.loads(line)
    t1 = cpu()
    decoder = msgspec.json.Decoder()
    for line in lines:
        decoder.decode(line)
    t2 = cpu()
    return {"orjson": t1 - t0, "msgspec": t2 - t1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "datacraft-bench")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    path, _ = corpus(args.data_dir, args.n, 0)
    config = DedupeConfig()
    work = Path(tempfile.mkdtemp(prefix="dedupe-e2e-"))
    print(f"{args.n:,} records, {path.stat().st_size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f} "
          "at start (shared machine); CPU seconds (process time)")
    results = {"datacraft": datacraft(path, work / "dc.jsonl", config)}
    results["rensa"] = baseline(path, work / "rensa.jsonl", rensa_lsh, config)
    results["datasketch (xxh32)"] = baseline(path, work / "ds.jsonl", datasketch_lsh, config)
    floor = read_floor(path)
    dc = results["datacraft"]
    print("| tool | end to end s | ratio | in memory, shingling included s | ratio | like for like s | ratio | dropped |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['end_to_end']:.1f} | {r['end_to_end'] / dc['end_to_end']:.1f}x | "
              f"{r['in_memory']:.1f} | {r['in_memory'] / dc['in_memory']:.1f}x | "
              f"{r['like_for_like']:.1f} | {r['like_for_like'] / dc['like_for_like']:.1f}x | {r['dropped']:,} |")
    print(f"read floor (parse every line): orjson {floor['orjson']:.2f} s, msgspec {floor['msgspec']:.2f} s "
          f"({floor['msgspec'] / floor['orjson']:.2f}x orjson)")
    for f in work.iterdir():
        f.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
