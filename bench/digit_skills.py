"""A learnable task for saturation curves: three deterministic digit-string skills, one rare and harder.

- copy (common, 3/8 of records): "Copy: 40821" -> "40821"
- shift (common, 3/8): every digit plus one, 9 wraps to 0: "Shift: 40821" -> "51932"
- reverse (rare, 1/4, and harder: each answer digit comes from a position that depends on the
  string's length, not from the same offset as in copy and shift): "Reverse: 40821" -> "12804"

Digit strings are 4 to 6 digits. Every answer is a function of the prompt, so a model that has
learned the skill scores exact-match 1.0 on it; how much data that takes is what the curve shows.
The eval set holds strings never seen in training.

Run: python bench/digit_skills.py OUT_DIR [--train 2400 --eval 240 --seed 0]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import orjson

SHIFT = str.maketrans("0123456789", "1234567890")
SKILLS = {"copy": (0.375, lambda s: s), "shift": (0.375, lambda s: s.translate(SHIFT)),
          "reverse": (0.25, lambda s: s[::-1])}
PROMPTS = {"copy": "Copy", "shift": "Shift", "reverse": "Reverse"}


def digit_records(n: int, rng: random.Random, seen: set[str]) -> list[dict[str, Any]]:
    """n records drawn by skill share; digit strings are unique across calls sharing `seen`."""
    names = list(SKILLS)
    weights = [SKILLS[k][0] for k in names]
    out = []
    while len(out) < n:
        skill = rng.choices(names, weights)[0]
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 6)))
        if (skill, digits) in seen:
            continue
        seen.add((skill, digits))
        out.append({"instruction": f"{PROMPTS[skill]}: {digits}", "output": SKILLS[skill][1](digits),
                    "id": f"{skill}-{digits}", "meta": {"task_type": skill}})
    return out


def digit_task(n_train: int = 2400, n_eval: int = 240, seed: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training pool, eval set); no (skill, digits) pair is in both."""
    rng = random.Random(seed)
    seen: set[Any] = set()
    evals = digit_records(n_eval, rng, seen)
    return digit_records(n_train, rng, seen), evals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=2400)
    parser.add_argument("--eval", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, evals = digit_task(args.train, args.eval, args.seed)
    for name, rows in (("train.jsonl", train), ("eval.jsonl", evals)):
        (out / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    print(f"wrote {out}/train.jsonl ({len(train)}), {out}/eval.jsonl ({len(evals)})")


if __name__ == "__main__":
    main()
