"""Small generators of near-duplicate texts for the dedupe tests (seeded, no third-party data)."""

from __future__ import annotations

import random

WORDS = ("model data train token layer weight batch loss value graph query index vector table cache "
         "stream record field label split shard merge score metric prompt answer reason check plan "
         "river mountain garden window bridge market letter signal engine season").split()
CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"


def english(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(WORDS) + rng.choice(["", "", "", ",", "."]) for _ in range(n))


def chinese(rng: random.Random, n: int = 120) -> str:
    return "".join(rng.choice(CHARS) if rng.random() > 0.06 else "，" for _ in range(n))


def edit_words(rng: random.Random, text: str, k: int) -> str:
    words = text.split()
    for _ in range(k):
        words[rng.randrange(len(words))] = rng.choice(WORDS) + "x"
    return " ".join(words)


def edit_chars(rng: random.Random, text: str, k: int) -> str:
    chars = list(text)
    for _ in range(k):
        chars[rng.randrange(len(chars))] = rng.choice("天地玄黄宇宙洪荒")
    return "".join(chars)


def corpus(seed: int = 7, groups: int = 40) -> list[dict]:
    """Records in groups: an original, exact variants and near copies (chains of growing edits)."""
    rng = random.Random(seed)
    records = []
    for g in range(groups):
        zh = g % 2 == 0
        base = chinese(rng) if zh else english(rng)
        variants = [base, base.upper() + " !"]
        text = base
        for _ in range(rng.randrange(0, 4)):  # each copy edits the previous one: chains
            text = edit_chars(rng, text, 2) if zh else edit_words(rng, text, 1)
            variants.append(text)
        for v in variants:
            records.append({"instruction": f"task {g % 5}", "input": "", "output": v, "meta": {"group": g}})
    rng.shuffle(records)
    for i, r in enumerate(records):
        r["id"] = f"r{i}"
    return records
