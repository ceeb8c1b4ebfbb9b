"""Banded LSH over stored signatures, candidate checks and clustering, all as numpy array work.

Candidates: per band, records sorted by (band key, index); every record in a run of equal keys
is paired with the run's first record (a star, not all pairs). A candidate pair is a duplicate
when its signatures agree on at least `threshold` of the bins. Clusters are the connected
components of the duplicate pairs (union-find by pointer jumping); each keeps one representative.

`resolve` repeats the star check among the records still kept until nothing changes, so the kept
set has no duplicate pair left that a second run would find: deduping the output removes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from datacraft.dedupe.minhash import band_keys, signatures
from datacraft.dedupe.shingles import shingle_hashes

_IDX_MASK = np.uint64(0xFFFFFFFF)


class SignatureBank:
    """Signatures and band keys of records added in batches (row = order of addition)."""

    def __init__(self, num_perm: int, bands: int, rows: int, ngram_cjk: int, ngram_word: int):
        self.k, self.bands, self.rows = num_perm, bands, rows
        self.ngram_cjk, self.ngram_word = ngram_cjk, ngram_word
        self.sigs: list[np.ndarray] = []   # uint16 per chunk: 16 bits per bin are plenty to compare
        self.keys: list[np.ndarray] = []   # uint32 (rows x bands) per chunk
        self.has: list[np.ndarray] = []    # bool per chunk: False = no shingles (empty text)
        self.starts = [0]

    def __len__(self) -> int:
        return self.starts[-1]

    def add(self, texts: list[str]) -> None:
        """Add a batch of texts (raw: normalised here)."""
        hashes, rows = shingle_hashes(texts, self.ngram_cjk, self.ngram_word)
        sig = signatures(hashes, rows, len(texts), self.k)
        self.keys.append(band_keys(sig, self.bands, self.rows))
        self.has.append(np.bincount(rows, minlength=len(texts)) > 0)
        self.sigs.append(sig.astype(np.uint16))
        self.starts.append(self.starts[-1] + len(texts))

    def gather(self, index: np.ndarray) -> np.ndarray:
        """Signature rows (uint16, one per bin) of the given global indices."""
        order = np.argsort(index, kind="stable")
        ordered = index[order]
        out = np.empty((len(index), self.k), np.uint16)
        cuts = np.searchsorted(ordered, self.starts)
        for chunk, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
            if hi > lo:
                out[order[lo:hi]] = self.sigs[chunk][ordered[lo:hi] - self.starts[chunk]]
        return out

    def runs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per band: (indices, keys) of records sharing their band key with another, sorted by (key, index)."""
        n = len(self)
        has = np.concatenate(self.has) if self.has else np.zeros(0, bool)
        order = np.flatnonzero(has).astype(np.uint64)
        out = []
        for band in range(self.bands):
            keys = np.concatenate([k[:, band] for k in self.keys]) if n else np.zeros(0, np.uint32)
            packed = (keys[has].astype(np.uint64) << np.uint64(32)) | order
            packed.sort()
            hi = packed >> np.uint64(32)
            same = hi[1:] == hi[:-1]
            member = np.zeros(len(packed), bool)
            member[1:] |= same
            member[:-1] |= same
            packed = packed[member]
            out.append(((packed & _IDX_MASK).astype(np.int64), (packed >> np.uint64(32)).astype(np.uint32)))
        return out


def star_edges(runs: list[tuple[np.ndarray, np.ndarray]], alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (first alive record of each run, other alive member), over all bands, deduplicated."""
    heads, members = [], []
    for idx, keys in runs:
        m = alive[idx]
        i, k = idx[m], keys[m]
        if len(i) < 2:
            continue
        new = np.ones(len(k), bool)
        new[1:] = k[1:] != k[:-1]
        head = np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))
        heads.append(i[head[~new]])
        members.append(i[~new])
    if not heads:
        empty = np.zeros(0, np.int64)
        return empty, empty
    pairs = np.unique(np.concatenate(heads) << 32 | np.concatenate(members))
    return pairs >> 32, pairs & 0xFFFFFFFF


def agreement(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Number of agreeing bins per row pair (estimated Jaccard = agreement / num_perm)."""
    out = np.empty(len(sig_a), np.int64)
    for lo in range(0, len(sig_a), 65536):  # bounded temporaries
        out[lo:lo + 65536] = np.count_nonzero(sig_a[lo:lo + 65536] == sig_b[lo:lo + 65536], axis=1)
    return out


def find_roots(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Root of each x (roots are the smallest index of their component)."""
    r = parent[x]
    while True:
        rr = parent[r]
        if np.array_equal(rr, r):
            return r
        r = rr


def union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Merge the components of each pair in place; the smaller root becomes the parent."""
    while len(a):
        ra, rb = find_roots(parent, a), find_roots(parent, b)
        differ = ra != rb
        a, b, ra, rb = a[differ], b[differ], ra[differ], rb[differ]
        parent[np.maximum(ra, rb)] = np.minimum(ra, rb)  # clashing writes are retried next round


def resolve(bank: SignatureBank, threshold: float, n_refs: int = 0,
            pick: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Representative per record (itself when kept). Records [0, n_refs) are references.

    `pick(roots, members)` chooses each cluster's representative among its members when the
    cluster holds no reference; the default is the root, i.e. the first record.
    """
    n = len(bank)
    parent = np.arange(n, dtype=np.int64)
    alive = np.ones(n, bool)
    runs = bank.runs()
    need = int(np.ceil(threshold * bank.k - 1e-9))
    cand = np.unique(np.concatenate([idx for idx, _ in runs])) if runs else np.zeros(0, np.int64)
    sig = bank.gather(cand)
    rep = np.arange(n, dtype=np.int64)
    while True:
        a, b = star_edges(runs, alive)
        ra, rb = find_roots(parent, a), find_roots(parent, b)
        a, b = a[ra != rb], b[ra != rb]
        ok = agreement(sig[np.searchsorted(cand, a)], sig[np.searchsorted(cand, b)]) >= need
        if not ok.any():
            return rep
        union(parent, a[ok], b[ok])
        rep = _representatives(parent, cand, n_refs, pick)
        alive = rep == np.arange(n)
        alive[:n_refs] = True  # references stay in the index even when another reference holds the cluster


def _representatives(parent: np.ndarray, cand: np.ndarray, n_refs: int,
                     pick: Callable[[np.ndarray, np.ndarray], np.ndarray] | None) -> np.ndarray:
    n = len(parent)
    rep = np.arange(n, dtype=np.int64)
    roots = find_roots(parent, cand)
    clustered = roots != cand
    members = np.unique(np.concatenate([cand[clustered], roots[clustered]]))
    member_roots = find_roots(parent, members)
    chosen = member_roots.copy()  # the root: first record, or the first reference in the cluster
    if pick is not None:
        free = member_roots >= n_refs  # clusters without a reference (the root is the smallest index)
        if free.any():
            chosen[free] = pick(member_roots[free], members[free])
    rep[members] = chosen
    return rep


def longest(lengths: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A `pick` that keeps each cluster's longest member (ties: the first)."""
    def pick(roots: np.ndarray, members: np.ndarray) -> np.ndarray:
        order = np.lexsort((members, -lengths[members], roots))
        r, m = roots[order], members[order]
        first = np.ones(len(r), bool)
        first[1:] = r[1:] != r[:-1]
        return m[first][np.searchsorted(r[first], roots)]
    return pick
