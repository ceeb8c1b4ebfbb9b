"""Print candidate synonym pairs, most frequent first, for reviewing into datacraft/augment/data/safe_pairs_*.tsv.

Chinese: words of the instruction data (jieba) that are in a Cilin `=` group, with the group's
other members that jieba knows (its dictionary frequency shown). English: words of the data
with the lemmas of their first three WordNet senses. This only proposes; every pair that ships
was read and chosen by hand (see docs/benchmarks.md, issue 13).

    python bench/augment/candidate_pairs.py zh FILE... > zh.txt
    python bench/augment/candidate_pairs.py en --wordnet-dir DIR FILE... > en.txt
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def texts(paths: list[str]):
    for path in paths:
        raw = Path(path).read_text(encoding="utf-8")
        rows = json.loads(raw) if raw.lstrip().startswith("[") else [json.loads(line) for line in raw.splitlines() if line.strip()]
        for row in rows:
            for key in ("instruction", "input", "output"):
                if isinstance(row.get(key), str):
                    yield row[key]
            for turn in row.get("conversations", []) or []:
                yield str(turn.get("value", ""))
            for inst in row.get("instances", []) or []:
                yield str(inst.get("input", "")) + "\n" + str(inst.get("output", ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lang", choices=["zh", "en"])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--wordnet-dir")
    parser.add_argument("--top", type=int, default=600)
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    if args.lang == "zh":
        import jieba

        from datacraft.augment.segment_zh import Segmenter
        from datacraft.augment.synonyms_zh import load_groups
        seg = Segmenter()
        for text in texts(args.files):
            counts.update(t for t in seg.cut(text) if len(t) >= 2)
        groups: dict[str, list[str]] = {}
        for group in load_groups():
            for word in group:
                groups.setdefault(word, []).extend(w for w in group if w != word and len(w) >= 2)
        shown = 0
        for word, n in counts.most_common():
            options = [w for w in dict.fromkeys(groups.get(word, [])) if jieba.dt.FREQ.get(w, 0) >= 0.05 * jieba.dt.FREQ.get(word, 1)]
            if options:
                print(f"{word}\t{n}\t" + " ".join(f"{w}({counts[w]})" for w in options[:12]))
                shown += 1
            if shown >= args.top:
                break
    else:
        from datacraft.augment.synonyms_en import STOP_WORDS, load_wordnet
        wn = load_wordnet(args.wordnet_dir)
        for text in texts(args.files):
            counts.update(w.lower() for w in re.findall(r"[A-Za-z]+", text) if len(w) >= 3)
        shown = 0
        for word, n in counts.most_common():
            if word in STOP_WORDS:
                continue
            lemmas = []
            for synset in [s for s in wn.synsets(word) if s is not None][:3]:
                lemmas += [f"{name}/{synset.pos()}" for name in synset.lemma_names() if name.lower() != word and name.isalpha()]
            if lemmas:
                print(f"{word}\t{n}\t" + " ".join(dict.fromkeys(lemmas)))
                shown += 1
            if shown >= args.top:
                break


if __name__ == "__main__":
    main()
