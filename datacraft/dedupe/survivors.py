"""Which records survive near-dedupe: a greedy pass in priority order, with no chaining.

The rule: records are taken in priority order (references first, then the input order, or the
longest first). A record is removed when an earlier *survivor* shares an LSH band bucket with it
and agrees with it on at least `threshold` of the signature bins; `dup_of` names the most similar
such survivor (a reference before any input record; ties: the earliest). Otherwise it survives.
Every removal is thus a verified near-duplicate of the record it names, and A ~ B ~ C never
removes C for A's sake when C is not itself close to A (single-linkage clustering did).

The survivors are the lexicographically first maximal independent set of the "verified
near-duplicate" graph. It is computed in rounds over the verified pairs, all as array work (a
record is decided when all records before it that it is close to are decided; on real data a few
rounds do), and finished in a plain loop past `MAX_ROUNDS`. Buckets larger than `BUCKET_CAP`
(templated data) would need quadratic pair lists: there each record is compared with the first
`BUCKET_CAP` survivors of the bucket, in the same loop. Deduping the survivors again removes
nothing: each survivor is compared with exactly the same earlier survivors the second time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BUCKET_CAP = 32    # buckets up to this size are paired exhaustively; bigger ones compare with the first this many survivors
MAX_ROUNDS = 64    # vectorised rounds before the remaining undecided records go through the loop
UNDECIDED, KEPT, REMOVED = 0, 1, 2


def bucket_pairs(runs: list[tuple[np.ndarray, np.ndarray]], rank: np.ndarray | None,
                 cap: int = BUCKET_CAP) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Pairs (earlier, later) of ranks sharing a bucket of at most `cap` records, and the bigger buckets.

    `runs` are per band (indices, keys) sorted by (key, index); `rank` maps an index to its
    priority (None: the index is the rank).
    """
    heads, tails, large = [], [], []
    for idx, keys in runs:
        if not len(idx):
            continue
        r = idx if rank is None else rank[idx]
        if rank is not None:
            order = np.lexsort((r, keys))
            r, keys = r[order], keys[order]
        start = np.ones(len(keys), bool)
        start[1:] = keys[1:] != keys[:-1]
        first = np.flatnonzero(start)
        size = np.diff(np.append(first, len(keys)))
        group = np.cumsum(start) - 1
        pos = np.arange(len(keys)) - first[group]
        gsize = size[group]
        for g in np.flatnonzero(size > cap).tolist():
            large.append(r[first[g]:first[g] + size[g]])
        small = np.flatnonzero(gsize <= cap)
        for d in range(1, int(gsize[small].max(initial=1))):
            small = small[pos[small] + d < gsize[small]]
            if not len(small):
                break
            heads.append(r[small])
            tails.append(r[small + d])
    if not heads:
        empty = np.zeros(0, np.int64)
        return empty, empty, large
    packed = np.unique(np.concatenate(heads).astype(np.int64) << 32 | np.concatenate(tails))
    return packed >> 32, packed & 0xFFFFFFFF, large


def greedy(n: int, n_refs: int, a: np.ndarray, b: np.ndarray, agree: np.ndarray,
           large: list[np.ndarray] = (), close: Callable[[int, np.ndarray], np.ndarray] | None = None,
           cap: int = BUCKET_CAP, max_rounds: int = MAX_ROUNDS) -> np.ndarray:
    """Survivor (a rank) of each rank 0..n-1, itself when it survives.

    (a, b, agree): verified pairs a < b with their agreeing bins. Ranks below n_refs always survive.
    `large` buckets (sorted ranks) are resolved with `close(v, ranks)`: the agreement of v with each
    of `ranks`, or -1 where below the threshold.
    """
    keep = b >= n_refs  # a reference is never removed
    a, b, agree = a[keep], b[keep], agree[keep]
    status = np.full(n, KEPT, np.int8)
    status[b] = UNDECIDED
    in_large = np.zeros(n, bool)
    for bucket in large:
        in_large[bucket] = True
    status[in_large & (np.arange(n) >= n_refs)] = UNDECIDED
    rounds = 0 if large else max_rounds  # large buckets: one ordered loop decides everything
    for _ in range(rounds):
        open_b = status[b] == UNDECIDED
        if not open_b.any():
            break
        status[b[open_b & (status[a] == KEPT)]] = REMOVED
        waiting = open_b & (status[a] != REMOVED) & (status[b] == UNDECIDED)
        blocked = np.zeros(n, bool)
        blocked[b[waiting]] = True
        status[(status == UNDECIDED) & ~blocked] = KEPT
    survivor = np.arange(n, dtype=np.int64)
    if (status == UNDECIDED).any():
        _loop(status, survivor, n_refs, a, b, agree, large, close, cap)
    removed = status[b] == REMOVED
    by_kept = removed & (status[a] == KEPT)
    ea, eb, eg = a[by_kept], b[by_kept], agree[by_kept]
    # per removed record: a reference first, then the most agreeing bins, then the earliest
    order = np.lexsort((ea, -eg, ea >= n_refs, eb))
    ea, eb = ea[order], eb[order]
    first = np.ones(len(eb), bool)
    first[1:] = eb[1:] != eb[:-1]
    unset = survivor[eb[first]] == eb[first]  # the loop may have chosen already (large buckets)
    survivor[eb[first][unset]] = ea[first][unset]
    return survivor


def _loop(status: np.ndarray, survivor: np.ndarray, n_refs: int, a: np.ndarray, b: np.ndarray,
          agree: np.ndarray, large: list[np.ndarray], close: Callable | None, cap: int) -> None:
    """Decide the remaining records one by one in rank order (large buckets, long dependency chains)."""
    order = np.argsort(b, kind="stable")
    sa = a[order].tolist()
    bounds = np.searchsorted(b[order], np.arange(len(status) + 1)).tolist()
    buckets_of: dict[int, list[int]] = {}
    for g, bucket in enumerate(large):
        for v in bucket.tolist():
            buckets_of.setdefault(v, []).append(g)
    survivors: list[list[int]] = [[] for _ in large]  # per large bucket: its first `cap` survivors
    todo = np.flatnonzero((status == UNDECIDED) | np.isin(np.arange(len(status)), list(buckets_of)))
    state = status.tolist()  # Python ints: this loop touches one record at a time
    for v in todo.tolist():
        if state[v] == UNDECIDED:
            if any(state[u] == KEPT for u in sa[bounds[v]:bounds[v + 1]]):
                state[v] = REMOVED  # the choice among kept neighbours is made by the caller
            else:
                best = _best_in_buckets(v, buckets_of.get(v, ()), survivors, close, n_refs)
                if best is None:
                    state[v] = KEPT
                else:
                    state[v] = REMOVED
                    survivor[v] = best
        if state[v] == KEPT:
            for g in buckets_of.get(v, ()):
                if len(survivors[g]) < cap:
                    survivors[g].append(v)
    status[:] = state


def _best_in_buckets(v: int, groups, survivors: list[list[int]], close: Callable | None,
                     n_refs: int) -> int | None:
    cand = sorted({s for g in groups for s in survivors[g]})
    if not cand or close is None:
        return None
    ranks = np.array(cand, np.int64)
    agree = close(v, ranks)
    ok = np.flatnonzero(agree >= 0)
    if not len(ok):
        return None
    ranks, agree = ranks[ok], agree[ok]
    best = np.lexsort((ranks, -agree, ranks >= n_refs))[0]
    return int(ranks[best])
