"""Synthetic tasks with known structure, for tests, `make train` and the benchmark.

- `lookup_task`: memorise a fixed key -> value table. A run can only answer keys it has seen, so
  the score grows with the data and saturates once every key is covered: a saturation curve
  with a known plateau. Rare keys (a quarter of the frequency) are labelled `meta.task_type: rare`.
- `product_pages`: attribute extraction from generated product pages; one attribute (warranty)
  is on only a quarter of the pages, so its per-attribute curve rises later.
"""

from __future__ import annotations

import random

from datacraft.records import Record

WORDS = ("red blue green gold gray pink teal plum mint sand rose jade navy lime ruby onyx "
         "fox owl cat elk yak bee ant cod emu gnu ram eel").split()


def lookup_table(n_keys: int, seed: int = 0) -> dict[str, str]:
    """A fixed random mapping key -> two-word value."""
    rng = random.Random(seed)
    return {f"k{i}": f"{rng.choice(WORDS[:14])} {rng.choice(WORDS[14:])}" for i in range(n_keys)}


def lookup_task(n_train: int, *, n_keys: int = 24, rare_keys: int = 6, seed: int = 0) -> tuple[list[Record], list[Record]]:
    """(training pool, eval set): pool records sample keys, rare keys a quarter as often; eval asks every key once."""
    table = lookup_table(n_keys, seed)
    keys = list(table)
    weights = [0.25 if i >= n_keys - rare_keys else 1.0 for i in range(n_keys)]
    rng = random.Random(seed + 1)

    def record(key: str, idx: str) -> Record:
        kind = "rare" if keys.index(key) >= n_keys - rare_keys else "common"
        return {"instruction": "Look up the key.", "input": key, "output": table[key], "id": idx,
                "meta": {"task_type": kind}}

    pool = [record(key, f"train-{i}") for i, key in enumerate(rng.choices(keys, weights, k=n_train))]
    return pool, [record(key, f"eval-{key}") for key in keys]


ATTRIBUTES = {
    "color": ("red", "blue", "green", "black", "white", "gray", "yellow", "purple"),
    "material": ("cotton", "wool", "leather", "steel", "bamboo", "glass", "linen", "oak"),
    "size": ("small", "medium", "large", "XL", "compact", "mini"),
    "brand": ("Acme", "Nordik", "Lumo", "Verra", "Kito", "Bramble", "Solen", "Quill"),
    "warranty": ("1 year", "2 years", "3 years", "5 years", "6 months", "lifetime"),
}
PRODUCTS = ("jacket", "lamp", "backpack", "kettle", "chair", "scarf", "bottle", "desk", "tent", "watch")
FILLER = ("Ships in two days.", "Loved by customers.", "Limited stock.", "Easy returns.",
          "Great as a gift.", "Designed for everyday use.", "Rated 4.5 stars.", "Free shipping over $50.")


def product_page(rng: random.Random, rare: str = "warranty", rare_share: float = 0.25) -> dict[str, str]:
    """Attribute values for one page; the rare attribute is present on `rare_share` of pages."""
    attrs = {name: rng.choice(values) for name, values in ATTRIBUTES.items() if name != rare}
    if rng.random() < rare_share:
        attrs[rare] = rng.choice(ATTRIBUTES[rare])
    return attrs


def render_page(attrs: dict[str, str], rng: random.Random) -> str:
    """A short product page with the attributes in random order among filler lines."""
    product = rng.choice(PRODUCTS)
    lines = [f"{name.capitalize()}: {value}" for name, value in attrs.items()]
    lines += rng.sample(FILLER, 2)
    rng.shuffle(lines)
    return "\n".join([f"{attrs.get('brand', 'Generic')} {product}", *lines])


def product_pages(n_pages: int, *, seed: int = 0, rare: str = "warranty", rare_share: float = 0.25) -> list[Record]:
    """One extraction record per (page, attribute present), labelled `meta.attribute`."""
    rng = random.Random(seed)
    records = []
    for page in range(n_pages):
        attrs = product_page(rng, rare, rare_share)
        text = render_page(attrs, rng)
        for name, value in attrs.items():
            records.append({"instruction": f"What is the {name} of this product? Answer with the value only.",
                            "input": text, "output": value, "id": f"page{seed}-{page}-{name}",
                            "meta": {"attribute": name, "page": page}})
    return records
