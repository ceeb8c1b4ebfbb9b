"""Issue 13's mechanical checks of the default `datacraft augment` on real files (the acceptability is read by a person).

For each file: the share of records that got a copy; every bad swap the issue listed, looked up
in the replacements each copy records and, for the broken compounds, in the copy's text; and
whether every protected span (placeholders, numbers, code, URLs) of a rewritten field is still
there, as often, in the copy. Baseline in the same run: the old default (`--source thesaurus`).

    python bench/augment/check_default.py ../shared/data/llamafactory/{alpaca_zh_demo,alpaca_en_demo,identity}.json
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from datacraft.augment import AugmentConfig, augment_file  # noqa: E402
from datacraft.augment.protect import find_spans  # noqa: E402

BAD_SWAPS = {("数据", "数额"), ("数据", "数量"), ("数据", "数目"), ("生成", "变迁"), ("生成", "转变"), ("解释", "分解"),
             ("确保", "担保"), ("助手", "羽翼"), ("质量", "身分"), ("identify", "place"), ("learn", "larn"),
             ("ways", "shipway"), ("象征", "意味着")}
BAD_TEXT = ["督察学习", "大棚气体", "竹签页", "数目科学家", "意味着着", "position quo", "third somebody", "shipway", "larn"]


def check(path: str, source: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        cpu = time.process_time()
        config = AugmentConfig(synonym={"source": source, "languages": ["zh"] if source == "thesaurus" else ["zh", "en"]})
        result = augment_file([path], str(out), config=config)
        cpu = time.process_time() - cpu
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    sources = {r["id"]: r for r in rows if "augmented_from" not in (r.get("meta") or {})}
    copies = [r for r in rows if (r.get("meta") or {}).get("augmented_from")]
    bad = Counter()
    spans_total = spans_kept = 0
    for copy in copies:
        original = sources[copy["meta"]["augmented_from"]]
        for old, new in copy["meta"]["augment"].get("pairs", []):
            if (old.lower(), new.lower()) in BAD_SWAPS:
                bad[f"{old}→{new}"] += 1
        for name in ("instruction", "input", "output"):
            before, after = str(original.get(name) or ""), str(copy.get(name) or "")
            if before == after:
                continue
            for text in BAD_TEXT:
                if after.count(text) > before.count(text):
                    bad[text] += 1
            for start, end in find_spans(before):
                span = before[start:end]
                spans_total += 1
                spans_kept += after.count(span) >= before.count(span)
    return {"records": result["read"], "copies": len(copies), "share": len(copies) / max(1, result["read"]),
            "bad": dict(bad), "spans": f"{spans_kept}/{spans_total}", "cpu_s": round(cpu, 2)}


def main() -> None:
    print("| file | source | records | copies | share | bad swaps found | protected spans kept | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        for source in ("curated", "thesaurus"):
            if source == "thesaurus" and "_en_" in path:
                continue  # the thesaurus needs WordNet data for English, which is not installed here
            r = check(path, source)
            bad = ", ".join(f"{k} ×{v}" for k, v in r["bad"].items()) or "none"
            print(f"| {Path(path).name} | {source}{' (default)' if source == 'curated' else ''} | {r['records']} | "
                  f"{r['copies']} | {r['share']:.1%} | {bad} | {r['spans']} | {r['cpu_s']} |")


if __name__ == "__main__":
    main()
