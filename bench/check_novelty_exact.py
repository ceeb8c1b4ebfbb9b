"""Does `NoveltyChecker` with its token index give exactly the verdicts of a scan of every stored text?

Streams real records (LLaMA-Factory's alpaca_en_demo and alpaca_zh_demo, with planted near-copies:
earlier records with a word dropped, swapped or added) through two checkers in replies of 5, one
with the inverted index and MinHash sketches made for 8 replies at once, and one with
`full_scan` and a sketch per reply, against the Stanford seed tasks, at several
ROUGE-L thresholds, and compares every verdict (reason and detail). Prints CPU seconds of each.

    python bench/check_novelty_exact.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datacraft.generate.novelty import NoveltyChecker  # noqa: E402


def planted(records: list[dict], rng: random.Random, count: int) -> list[dict]:
    """Near-copies of earlier records: one word dropped, two swapped, or one added."""
    out = []
    for _ in range(count):
        record = dict(rng.choice(records))
        words = record["instruction"].split()
        if len(words) > 3:
            i = rng.randrange(len(words) - 1)
            kind = rng.choice(("drop", "swap", "add"))
            if kind == "drop":
                del words[i]
            elif kind == "swap":
                words[i], words[i + 1] = words[i + 1], words[i]
            else:
                words.insert(i, rng.choice(words))
        else:  # Chinese: drop or repeat a character
            text = record["instruction"]
            i = rng.randrange(max(1, len(text)))
            text = text[:i] + text[i + 1:] if rng.random() < 0.5 else text[:i] + text[i:i + 1] + text[i:]
            words = [text]
        record["instruction"] = " ".join(words)
        out.append(record)
    return out


def stream(data: Path) -> tuple[list[dict], list[dict]]:
    rng = random.Random(7)
    records = []
    for name in ("alpaca_en_demo.json", "alpaca_zh_demo.json"):
        records += json.loads((data / "llamafactory" / name).read_text(encoding="utf-8"))
    records += planted(records, rng, 600)
    rng.shuffle(records)
    seeds = []
    for line in (data / "stanford_alpaca" / "seed_tasks.jsonl").read_text(encoding="utf-8").splitlines():
        task = json.loads(line)
        instance = task["instances"][0]
        seeds.append({"instruction": task["instruction"], "input": instance["input"], "output": instance["output"]})
    return records, seeds


def run(records: list[dict], seeds: list[dict], threshold: float | None, near: float | None, full: bool):
    checker = NoveltyChecker(threshold, near)
    checker.full_scan = full
    checker.add_many(seeds, [f"seed-{i}" for i in range(len(seeds))], kind="seed")
    verdicts = []
    cpu = time.process_time()
    for lo in range(0, len(records), 40):  # the index run sketches 8 replies at once, as generate's loop does
        sketch = None if full else checker.sketch(records[lo:lo + 40])
        for k in range(lo, min(lo + 40, len(records)), 5):
            reply = records[k:k + 5]
            rows = checker.sketch_rows(sketch, k - lo, k - lo + len(reply))
            verdicts += checker.check_many(reply, [f"gen-{k}-{i}" for i in range(len(reply))], sketch=rows)
    return verdicts, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data" if Path("/work/shared/data").exists() else "../shared/data")
    args = parser.parse_args()
    records, seeds = stream(Path(args.data))
    print(f"{len(records)} records in replies of 5, {len(seeds)} seeds")
    failed = False
    for threshold, near in ((0.7, 0.8), (0.7, None), (0.5, None), (0.3, None), (0.9, 0.8), (None, 0.8)):
        index, index_cpu = run(records, seeds, threshold, near, full=False)
        scan, scan_cpu = run(records, seeds, threshold, near, full=True)
        same = index == scan
        failed |= not same
        rejected = sum(not ok for ok, _, _ in index)
        print(f"rouge {threshold} near {near}: {'identical' if same else 'DIFFERENT'} verdicts "
              f"({rejected} rejected); CPU s index {index_cpu:.2f}, full scan {scan_cpu:.2f}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
