"""Rehearsal mixing benchmark: the share `mix` reaches, and what naive sampling gets wrong, on real files.

Domain: the first 400 records of LLaMA-Factory's alpaca_en_demo. General: the whole alpaca_en_demo
(so it holds the 400 domain records again) and alpaca_zh_demo. For each requested share, by records
and by tokens: the share reached, the domain records re-added as "general" ones, and CPU seconds of
this process (best of --rounds) against the baseline a script would use: random.sample of the
concatenated general files, no dedupe, no strata.

    .venv/bin/python bench/bench_mix.py --real-dir ../shared/data/llamafactory
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datacraft.mix import general_count, mix_file, record_tokens  # noqa: E402


def naive(domain: list[dict], general: list[dict], ratio: float, seed: int) -> list[dict]:
    """The baseline: sample general records at random from the concatenated files."""
    return random.Random(seed).sample(general, general_count(len(domain), ratio))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-dir", type=Path, default=ROOT.parent / "shared" / "data" / "llamafactory")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    en_path, zh_path = args.real_dir / "alpaca_en_demo.json", args.real_dir / "alpaca_zh_demo.json"
    if not en_path.exists():
        print(f"skipped: {en_path} not found")
        return 0
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus (shared machine: CPU seconds, not wall time)")
    en = json.loads(en_path.read_text(encoding="utf-8"))
    domain = en[:400]
    keys = {(r["instruction"], r["input"], r["output"]) for r in domain}
    with tempfile.TemporaryDirectory() as tmp:
        domain_path = Path(tmp) / "domain.jsonl"
        domain_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in domain), encoding="utf-8")
        print(f"{'by':<8}{'asked':>7}{'reached':>9}{'naive':>8}{'domain copies: mix':>20}{'naive':>7}"
              f"{'cpu s: mix':>12}{'naive':>8}{'ratio':>7}")
        for by in ("records", "tokens"):
            for ratio in (0.05, 0.1, 0.2, 0.3):
                out = Path(tmp) / "mixed.jsonl"
                best = float("inf")
                for _ in range(args.rounds):
                    started = time.process_time()
                    result = mix_file([str(domain_path)], [str(en_path), str(zh_path)], str(out), ratio=ratio, by=by,
                                      seed=1)
                    best = min(best, time.process_time() - started)
                rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
                general = [r for r in rows if r["meta"]["mix_role"] == "general"]
                copies = sum((r["instruction"], r["input"], r["output"]) in keys for r in general)
                naive_best = float("inf")
                for _ in range(args.rounds):
                    started = time.process_time()
                    # the baseline reads and parses the same files, as a script would
                    pool = json.loads(en_path.read_text(encoding="utf-8")) + json.loads(zh_path.read_text(encoding="utf-8"))
                    picked = naive(domain, pool, ratio, 1)
                    naive_best = min(naive_best, time.process_time() - started)
                naive_copies = sum((r["instruction"], r["input"], r["output"]) in keys for r in picked)
                if by == "tokens":
                    naive_share = sum(map(record_tokens, picked)) / (sum(map(record_tokens, picked))
                                                                     + sum(map(record_tokens, domain)))
                else:
                    naive_share = len(picked) / (len(picked) + len(domain))
                print(f"{by:<8}{ratio:>7.2%}{result['share']:>9.2%}{naive_share:>8.2%}{copies:>20}{naive_copies:>7}"
                      f"{best:>12.2f}{naive_best:>8.3f}{best / naive_best:>7.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
