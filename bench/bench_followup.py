"""How well the multi-turn follow-up check tells dependent follow-ups from unrelated ones, on real conversations.

Data: the human-written multi-turn conversations of shibing624/MedicalGPT's ShareGPT sample
(`sharegpt_zh_1k.jsonl`, mostly Chinese). Positives: each conversation as written (its follow-ups
are real ones, which almost always depend on the turns before). Negatives: the same conversation
with its second user turn replaced by the *first* user turn of another, randomly chosen
conversation: a self-contained question on another topic, the failure the check exists for (a
model that writes a new task instead of a follow-up). Overlap by chance is possible, as in real use. Reported: the share of
real conversations kept and of planted ones caught, against the baseline of no check (keeps all,
catches none), and CPU seconds of this process per 1,000 conversations.

    .venv/bin/python bench/bench_followup.py --data ../shared/data/more/sharegpt_zh_1k.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datacraft.generate.multiturn import follow_up_problem  # noqa: E402


def pairs_of(row: dict) -> list[list[str]] | None:
    """[[user, assistant], ...] of a ShareGPT row with 2+ exchanges that alternate cleanly, else None."""
    turns = [(t.get("from"), t.get("value")) for t in row.get("conversations", [])]
    if len(turns) < 4 or len(turns) % 2:
        return None
    if [r for r, _ in turns] != ["human", "gpt"] * (len(turns) // 2):
        return None
    return [[turns[i][1], turns[i + 1][1]] for i in range(0, len(turns), 2)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "more" / "sharegpt_zh_1k.jsonl")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    chats = [p for p in map(pairs_of, rows) if p is not None]
    rng = random.Random(args.seed)
    planted = []
    for index, chat in enumerate(chats):
        other = rng.choice([j for j in range(len(chats)) if j != index])
        planted.append([chat[0], [chats[other][0][0], chats[other][0][1]], *chat[2:]])
    start = time.process_time()
    kept = sum(follow_up_problem(chat) is None for chat in chats)
    caught = sum(follow_up_problem(chat) is not None for chat in planted)
    cpu = time.process_time() - start
    result = {
        "data": str(args.data.name), "conversations": len(chats), "machine": platform.processor() or platform.machine(),
        "real_kept": kept, "real_kept_share": round(kept / len(chats), 3),
        "planted_caught": caught, "planted_caught_share": round(caught / len(planted), 3),
        "baseline_no_check": {"real_kept_share": 1.0, "planted_caught_share": 0.0},
        "cpu_seconds_per_1000": round(cpu / (2 * len(chats)) * 1000, 4),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
