"""Dedupe quality: precision and recall on the realistic edit set, before (a baseline checkout) and after.

Each input file is turned into an edit set (`bench/edit_set.py`: originals, planted copies with
realistic edits, true negatives), and the exact + near stages run on it, through each code base in
its own subprocess (`--baseline DIR` is a checkout of the code to compare with, e.g. from
`git archive <commit> datacraft | tar -x -C DIR`). A removal is right when `dup_of` is in the
removed record's group. Also counted: removals whose survivor is not a near-duplicate of them
(true shingle Jaccard below the threshold: chaining), and the CPU time of the stages.

    .venv/bin/python bench/bench_dedupe_quality.py --baseline /tmp/before \\
        ../shared/data/llamafactory/alpaca_en_demo.json ../shared/data/llamafactory/alpaca_zh_demo.json
    .venv/bin/python bench/bench_dedupe_quality.py --grid FILE...   # tune shingles and threshold (this code)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent


def evaluate(items: list[dict], truth: dict, settings: dict) -> dict:
    """Run exact + near dedupe (the datacraft on sys.path) on `items`; precision, recall, chaining."""
    from datacraft.dedupe import DedupeConfig, dedupe_stages
    from datacraft.dedupe.normalize import field_text, normalize
    from datacraft.dedupe.shingles import shingles
    from datacraft.stages import Ledger, RejectSink, chain

    class Collect(RejectSink):
        def __init__(self) -> None:
            super().__init__(None)
            self.dup_of: dict[str, tuple[str, str]] = {}

        def write(self, stage, reason, *, record=None, **extra) -> None:
            self.dup_of[record["id"]] = (extra["dup_of"], stage)

    config = DedupeConfig(**settings)
    sink = Collect()
    ledger = Ledger(sink)
    records = [dict(r) for r in items]
    cpu = time.process_time()
    kept = [r["id"] for r in chain(iter(records), *dedupe_stages(config, ledger))]
    cpu = time.process_time() - cpu
    group_of = {rid: g for g, members in enumerate(truth["groups"]) for rid in members}
    kinds = truth["kinds"]
    # a group's kind is its copy's (an original and one copy; which of them goes does not matter)
    group_kind = {g: next((kinds[r] for r in members if kinds[r] != "original"), "original")
                  for g, members in enumerate(truth["groups"])}
    copies = Counter(group_kind[g] for g, members in enumerate(truth["groups"]) for _ in members[1:])
    right = Counter()
    wrong = Counter()
    for rid, (dup, _) in sink.dup_of.items():
        g = group_of[rid]
        (right if group_of.get(dup) == g else wrong)[group_kind[g]] += 1
    should = sum(len(m) - 1 for m in truth["groups"])
    by_id = {r["id"]: r for r in items}

    def sset(rid: str) -> set[str]:
        return set(shingles(normalize(field_text(by_id[rid], config.fields)), config.ngram_cjk, config.ngram_word))

    threshold = config.threshold or 0.8
    survivors = set(kept)
    index: dict[str, list[str]] = {}
    sets = {rid: sset(rid) for rid in survivors}
    for rid, s in sets.items():
        for sh in s:
            index.setdefault(sh, []).append(rid)
    far_from_dup_of = no_close_survivor = 0
    near = [rid for rid, (_, stage) in sink.dup_of.items() if stage == "near_dedupe"]
    for rid in near:
        mine = sset(rid)
        dup = sink.dup_of[rid][0]
        other = sets.get(dup, set())
        if len(mine & other) / max(len(mine | other), 1) < threshold:
            far_from_dup_of += 1
        overlap = Counter(s for sh in mine for s in index.get(sh, ()))
        if not any(k / max(len(mine) + len(sets[s]) - k, 1) >= threshold for s, k in overlap.items()):
            no_close_survivor += 1
    removed = len(sink.dup_of)
    n_right = sum(right.values())
    return {
        "records": len(items), "kept": len(kept), "removed": removed, "near_removed": len(near),
        "precision": n_right / max(removed, 1), "recall": n_right / max(should, 1),
        "recall_by_kind": {k: round(right[k] / copies[k], 3) for k in sorted(copies)},
        "wrong_by_kind": dict(wrong), "far_from_dup_of": far_from_dup_of,
        "no_close_survivor": no_close_survivor, "cpu_s": cpu,
    }


def worker(args: argparse.Namespace) -> None:
    items = [orjson.loads(x) for x in Path(args.worker).read_bytes().splitlines()]
    truth = json.loads(Path(args.worker + ".truth.json").read_text())
    settings = json.loads(args.settings)
    print(json.dumps(evaluate(items, truth, settings)))


def in_subprocess(code: Path, edit_file: str, settings: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code))
    done = subprocess.run([sys.executable, __file__, "--worker", edit_file, "--settings", json.dumps(settings)],
                          env=env, check=True, capture_output=True, text=True, cwd=code)
    return json.loads(done.stdout.splitlines()[-1])


def make_edit_set(paths: list[str], out: Path, seed: int, templates: int, math: int) -> str:
    sys.path.insert(0, str(ROOT))
    from bench.edit_set import build, load_alpaca

    records = [r for p in paths for r in load_alpaca(p)]
    items, truth = build(records, seed, templates=templates, math=math)
    out.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in items))
    Path(str(out) + ".truth.json").write_text(json.dumps(truth))
    return str(out)


def row(name: str, r: dict) -> str:
    return (f"{name:<34} removed {r['removed']:>5} precision {r['precision']:.3f} recall {r['recall']:.3f} "
            f"far-from-dup_of {r['far_from_dup_of']:>4} no-close-survivor {r['no_close_survivor']:>4} "
            f"CPU {r['cpu_s']:.2f} s\n    recall by kind {r['recall_by_kind']}\n    wrong by kind {r['wrong_by_kind']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*")
    parser.add_argument("--baseline", type=Path, help="checkout of the code to compare with")
    parser.add_argument("--grid", action="store_true", help="tune ngram sizes and threshold on this code")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--templates", type=int, default=300)
    parser.add_argument("--math", type=int, default=50)
    parser.add_argument("--settings", default="{}", help="DedupeConfig settings as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    tmp = Path(tempfile.mkdtemp(prefix="dedupe-quality-"))
    edit_file = make_edit_set(args.inputs, tmp / "edits.jsonl", args.seed, args.templates, args.math)
    settings = json.loads(args.settings)
    print(f"edit set from {', '.join(args.inputs)} (seed {args.seed}) -> {edit_file}; settings {settings or 'defaults'}")
    if args.grid:  # in this process: the code under test
        sys.path.insert(0, str(ROOT))
        items = [orjson.loads(x) for x in Path(edit_file).read_bytes().splitlines()]
        truth = json.loads(Path(edit_file + ".truth.json").read_text())
        for ngram_word in (2, 3):
            for ngram_cjk in (2, 3):
                for threshold in (0.7, 0.75, 0.8):
                    for answer in (None, 0.5, 0.6, 0.7):
                        s = dict(settings, ngram_word=ngram_word, ngram_cjk=ngram_cjk, threshold=threshold,
                                 answer_threshold=answer)
                        r = evaluate(items, truth, s)
                        print(f"word {ngram_word} cjk {ngram_cjk} t {threshold} answer {answer}: precision "
                              f"{r['precision']:.3f} recall {r['recall']:.3f} neg wrong "
                              f"{sum(v for k, v in r['wrong_by_kind'].items() if k.startswith('neg_'))} "
                              f"sub2 {r['recall_by_kind'].get('sub2')} sub5 {r['recall_by_kind'].get('sub5')} "
                              f"cpu {r['cpu_s']:.2f}", flush=True)
        return
    after = in_subprocess(ROOT, edit_file, settings)
    if args.baseline:
        print(row("before (baseline)", in_subprocess(args.baseline, edit_file, {})))
    print(row("after (this code)", after))


if __name__ == "__main__":
    main()
