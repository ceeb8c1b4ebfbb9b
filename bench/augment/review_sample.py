"""Draw the blind review sample for issue 13: default `datacraft augment` on a file, N random copies.

Each copy is printed with its source: the full instruction before and after, and every changed
passage of the other fields with 30 characters of context, the changed words marked [-old-]{+new+}.
The reviewer (a person, not this script) reads each one and writes a verdict line into the
verdicts file: `id<TAB>ok|bad<TAB>reason`. `--score` only counts those verdicts.

    python bench/augment/review_sample.py ../shared/data/llamafactory/alpaca_zh_demo.json \\
        --n 40 --seed 2026 > bench/augment/review_zh.md
    python bench/augment/review_sample.py --score bench/augment/verdicts_zh.tsv

The sample is taken from the copies the default run kept, with random.Random(seed), before
anyone reads them; the seed used for the published sample was chosen before it was drawn and
differs from the seeds used while the pair list was being revised (7, 11, 23).
Round 1 (bench/augment/round1/, seed 2026) was read, the pairs it faulted were fixed, and round 2
(bench/augment/review_*.md, seed 4242) was drawn from the fixed list and read afresh.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from datacraft.augment import AugmentConfig, augment_file  # noqa: E402
from datacraft.cli.augment_cmd import highlight  # noqa: E402


def passages(before: str, after: str, width: int = 30) -> list[str]:
    """The changed passages of `after`, each with `width` characters of context, marked."""
    old, new = highlight(before, after, color=False)
    out = []
    position = 0
    marked = new
    while True:
        start = marked.find("{+", position)
        if start < 0:
            break
        end = marked.find("+}", start) + 2
        out.append(marked[max(0, start - width):end + width].replace("\n", "⏎"))
        position = end
    if not out and before != after:
        out.append(old[:2 * width].replace("\n", "⏎"))
    return out


def draw(path: str, n: int, seed: int, methods: list[str], source: str, wordnet_dir: str | None) -> None:
    config = AugmentConfig(methods=methods or ["synonym"], synonym={"source": source, "wordnet_dir": wordnet_dir})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "aug.jsonl"
        result = augment_file([path], str(out), config=config)
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    sources = {r["id"]: r for r in rows if "augmented_from" not in (r.get("meta") or {})}
    copies = [r for r in rows if (r.get("meta") or {}).get("augmented_from")]
    sample = random.Random(seed).sample(copies, n)
    how = "default" if not methods and source == "curated" else f"--method {' '.join(methods or ['synonym'])} --source {source}"
    print(f"# Blind review sample: {n} of {len(copies)} copies, {how} `datacraft augment {Path(path).name}`\n")
    print(f"Source: {Path(path).name} from LLaMA-Factory's data/ (Alpaca-derived, CC BY-NC 4.0, research use); "
          f"only the {n} sampled records are reproduced. Drawn with random.Random({seed}).sample. "
          f"Records read {result['read']}, copies kept {len(copies)} ({len(copies) / result['read']:.1%}).\n")
    for number, copy in enumerate(sample, 1):
        source = sources[copy["meta"]["augmented_from"]]
        pairs = ", ".join(f"{a}→{b}" for a, b in copy["meta"]["augment"].get("pairs", [])) or copy["meta"]["method"]
        print(f"## {number}. {copy['id']}  ({pairs})\n")
        print(f"- instruction before: {source['instruction']}")
        if copy["instruction"] != source["instruction"]:
            print(f"- instruction after:  {copy['instruction']}")
        for name in ("input", "output"):
            if copy.get(name) != source.get(name):
                for passage in passages(str(source.get(name) or ""), str(copy.get(name) or "")):
                    print(f"- {name}: …{passage}…")
        print()


def score(path: str) -> None:
    verdicts = [line.split("\t") for line in Path(path).read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    ok = sum(1 for v in verdicts if v[1] == "ok")
    print(f"{path}: {ok}/{len(verdicts)} acceptable ({ok / len(verdicts):.1%})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--score", metavar="VERDICTS")
    parser.add_argument("--method", action="append", default=[], help="another method than the default")
    parser.add_argument("--source", default="curated", choices=["curated", "thesaurus"])
    parser.add_argument("--wordnet-dir", help="for --source thesaurus on English")
    args = parser.parse_args()
    if args.score:
        score(args.score)
    else:
        draw(args.path, args.n, args.seed, args.method, args.source, args.wordnet_dir)


if __name__ == "__main__":
    main()
