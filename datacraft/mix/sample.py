"""Pure sampling helpers for rehearsal mixing: how many general records to add, and from which source."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


def general_count(domain: int, ratio: float) -> int:
    """General records that make `ratio` of the mix with `domain` domain records, as near as a count can.

    >>> general_count(1000, 0.2), general_count(3, 0.5), general_count(10, 0.0), general_count(400, 0.1)
    (250, 3, 0, 44)
    """
    if ratio <= 0:
        return 0
    exact = ratio * domain / (1 - ratio)
    low = math.floor(exact)
    return min((low, low + 1), key=lambda k: (abs(k / (domain + k) - ratio) if domain + k else 1.0, k))


def allocate(total: int, sizes: dict[str, float]) -> dict[str, int]:
    """Split `total` across sources in proportion to `sizes` (largest remainder, ties by name).

    >>> allocate(10, {"a": 50, "b": 30, "c": 20}), allocate(3, {"a": 1, "b": 1})
    ({'a': 5, 'b': 3, 'c': 2}, {'a': 2, 'b': 1})
    """
    mass = sum(sizes.values())
    if total <= 0 or mass <= 0:
        return {name: 0 for name in sizes}
    exact = {name: total * size / mass for name, size in sizes.items()}
    out = {name: int(value) for name, value in exact.items()}
    order = sorted(sizes, key=lambda n: (-(exact[n] - out[n]), n))
    for name in order[: total - sum(out.values())]:
        out[name] += 1
    return out


def pick_tokens(lengths: Sequence[int], budget: float, rng: random.Random) -> list[int]:
    """Indices whose lengths sum close to `budget`: a shuffled greedy pass, then the best single fill-in.

    Never more than the budget plus half the shortest length left over, so with many short records
    the sum lands within a fraction of a record of the budget.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chosen, total = [], 0
    rest = []
    for i in order:
        if total + lengths[i] <= budget:
            chosen.append(i)
            total += lengths[i]
        else:
            rest.append(i)
    gap = budget - total
    if rest and gap > 0:
        best = min(rest, key=lambda i: (abs(gap - lengths[i]), i))
        if abs(gap - lengths[best]) < gap:
            chosen.append(best)
    return chosen
