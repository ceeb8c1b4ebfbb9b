"""Leak-free train/validation split: related records are grouped, and whole groups change sides.

Records are related (union-find) when they are
- near-duplicates of one another (a clustering function, `dedupe.near_duplicate_clusters` by
  default) or exact duplicates after dedupe's normalisation,
- chunks of the same source document: equal `meta.doc_id`, `meta.source_doc` or
  `meta.chunk.doc_id` (DOC_KEYS; all name a document, so they share one namespace),
- an augmented copy and its source: `meta.augmented_from` equals the source's `id` (copies of one
  source are also grouped with each other when the source itself is absent).

Records that went through `datacraft dedupe` carry their near-duplicate cluster in `meta.dedupe`
(`DEDUPE_KEY`: the surviving record's id, the threshold and the compared fields). When every
record has it, at a threshold no stricter than export's, the clusters are taken from there and
nothing is normalised or clustered again (`reuses_dedupe`).
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from datacraft.dedupe import exact_key, normalize
from datacraft.errors import ConfigError
from datacraft.records import Record

DOC_KEYS = ("doc_id", "source_doc", "chunk.doc_id")
AUGMENTED_KEY = "augmented_from"
DEDUPE_KEY = "dedupe"  # meta.dedupe = {"group": survivor id, "threshold": t, "fields": [...]}, set by dedupe
Clusterer = Callable[[list[str]], list[int]]


class _UnionFind:
    def __init__(self, n: int = 0):
        self.parent = list(range(n))

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index is the root, so group labels do not depend on union order.
            self.parent[max(ra, rb)] = min(ra, rb)


def _lookup(meta: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(meta, dict):
            return None
        meta = meta.get(part)
    return meta


def _relation_keys(record: Record) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if record.get("id") is not None:
        keys.append(("id", str(record["id"])))
    meta = record.get("meta")
    if not isinstance(meta, dict) or not _RELATION_ROOTS.intersection(meta):
        return keys  # no document or source key at all: the usual record
    for dotted in DOC_KEYS:
        value = _lookup(meta, dotted)
        if value not in (None, ""):
            keys.append(("doc", str(value)))
    sources = _lookup(meta, AUGMENTED_KEY)
    for source in sources if isinstance(sources, list) else [sources]:
        if source not in (None, ""):
            keys.append(("id", str(source)))
    return keys


_RELATION_ROOTS = frozenset(key.split(".")[0] for key in (*DOC_KEYS, AUGMENTED_KEY))


def dedupe_group(record: Record, threshold: float, fields: Sequence[str]) -> str | None:
    """The near-duplicate cluster dedupe wrote into `meta`, if it compared `fields` at <= `threshold`."""
    meta = record.get("meta")
    mark = meta.get(DEDUPE_KEY) if isinstance(meta, dict) else None
    if not isinstance(mark, dict) or mark.get("group") in (None, ""):
        return None
    seen = mark.get("threshold")
    if not isinstance(seen, (int, float)) or seen > threshold or tuple(mark.get("fields") or ()) != tuple(fields):
        return None
    return str(mark["group"])


class Grouper:
    """Union-find over records added one at a time: memory is a few ints per record and per key."""

    def __init__(self) -> None:
        self.uf = _UnionFind()
        # The first record with each key, one table per kind of key ("id", "doc", "text", "near"):
        # a table keyed by (kind, value) tuples kept a 56-byte tuple alive per record.
        self.first: defaultdict[str, dict[str, int]] = defaultdict(dict)

    def link(self, key: tuple[str, str], i: int) -> None:
        kind, value = key
        j = self.first[kind].setdefault(value, i)
        if j != i:
            self.uf.union(i, j)

    def add(self, record: Record) -> int:
        """Register a record and its provenance links; returns its index."""
        i = self.uf.add()
        for key in _relation_keys(record):
            self.link(key, i)
        return i

    def labels(self) -> list[int]:
        return [self.uf.find(i) for i in range(len(self.uf.parent))]


def group_records(records: Sequence[Record], texts: Sequence[str] | None = None,
                  cluster: Clusterer | None = None) -> list[int]:
    """Group label per record (the smallest index in its group); related records share a label.

    `texts` (one per record) turns on duplicate grouping: exact as `datacraft dedupe` sees it
    (normalised: case, width, punctuation and spacing ignored), and near when
    `cluster` is given (one cluster label per text, equal label = near-duplicates).

    >>> group_records([{"id": "a"}, {"id": "b", "meta": {"augmented_from": "a"}}, {"id": "c"}])
    [0, 0, 2]
    """
    grouper = Grouper()
    for record in records:
        grouper.add(record)
    if texts is not None:
        link_duplicates(grouper, texts, cluster)
    return grouper.labels()


def link_duplicates(grouper: Grouper, texts: Sequence[str], cluster: Clusterer | None) -> None:
    """Group exact duplicates (dedupe's normalisation) and, with `cluster`, near-duplicates."""
    for i, text in enumerate(texts):
        if text:
            grouper.link(("text", str(exact_key(normalize(text)))), i)
    if cluster is not None:
        for i, label in enumerate(cluster(list(texts))):
            grouper.link(("near", str(label)), i)


def validation_target(n: int, val_size: float) -> int:
    """How many of `n` records validation should get: a fraction below 1, else a count.

    >>> validation_target(1000, 0.1), validation_target(1000, 50), validation_target(5, 0.1)
    (100, 50, 1)
    """
    if val_size < 0 or math.isnan(val_size):
        raise ConfigError(f"--val-size must be >= 0, got {val_size}")
    if val_size >= 1:
        if val_size != int(val_size):
            raise ConfigError(f"--val-size {val_size}: use a fraction below 1 or a whole number of records")
        return min(int(val_size), n)
    if val_size == 0 or n == 0:
        return 0
    # A fraction that rounds to nothing still asks for a validation set: give it one record.
    return max(1, round(val_size * n))


def _quotas(target: int, sizes: dict[str, int]) -> dict[str, int]:
    """Split `target` over strata in proportion to their sizes (largest remainder)."""
    total = sum(sizes.values())
    exact = {s: target * size / total for s, size in sizes.items()}
    quotas = {s: math.floor(v) for s, v in exact.items()}
    order = sorted(sizes, key=lambda s: (-(exact[s] - quotas[s]), s))
    for s in order[: target - sum(quotas.values())]:
        quotas[s] += 1
    return quotas


def assign_split(groups: Sequence[int], val_size: float, seed: int = 42,
                 strata: Sequence[str] | None = None) -> list[bool]:
    """Pick whole groups for validation (True) with a seeded shuffle, close to the target size.

    Groups are visited in a seeded random order; a group is taken when it brings the validation
    count closer to the target, so the size is met as closely as whole groups allow (never at the
    cost of an empty training split). With `strata` (a label per record, e.g. language) each
    stratum gets its proportional share first, then any shortfall is filled from all strata.
    """
    n = len(groups)
    target = validation_target(n, val_size)
    # Group sizes, and each group's records only for groups of two or more: a table entry per group,
    # not a list per record (most records are alone).
    size = Counter(groups)
    labels = sorted(size)  # in first-appearance order: labels are smallest indices
    rng = random.Random(seed)
    taken: set[int] = set()
    count = 0

    def fill(candidates: list[int], goal: int, current: int) -> int:
        nonlocal count
        for g in candidates:
            if current >= goal:
                break  # `current` never falls: no later group would be taken
            if g in taken:
                continue
            if size[g] < 2 * (goal - current) and count + size[g] < n:
                taken.add(g)
                current += size[g]
                count += size[g]
        return current

    if strata is not None and target:
        by_stratum: dict[str, list[int]] = defaultdict(list)
        alone: dict[int, str] = {}  # a lone record's group: its record's stratum
        shared: dict[int, Counter[str]] = defaultdict(Counter)  # a larger group's: the most common (first on a tie)
        for i, g in enumerate(groups):
            if size[g] == 1:
                alone[g] = strata[i]
            else:
                shared[g][strata[i]] += 1
        for g in labels:
            by_stratum[alone[g] if g in alone else shared[g].most_common(1)[0][0]].append(g)
        del alone, shared
        sizes = {s: sum(size[g] for g in gs) for s, gs in by_stratum.items()}
        for stratum, quota in sorted(_quotas(target, sizes).items()):
            candidates = by_stratum[stratum][:]
            rng.shuffle(candidates)
            fill(candidates, quota, 0)
    remaining = [g for g in labels if g not in taken]
    rng.shuffle(remaining)
    fill(remaining, target, count)
    return [g in taken for g in groups]
