"""Banded LSH over stored signatures, candidate checks and clustering, all as numpy array work.

Candidates: per band, records sorted by (band key, index); records sharing a key share a bucket.
A candidate pair is a near-duplicate when its signatures agree on at least `threshold` of the
bins. Which records survive is decided in `survivors.py` (greedy in priority order, no chaining).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from datacraft.dedupe import kernel
from datacraft.dedupe.minhash import band_keys, signatures
from datacraft.dedupe.shingles import shingle_hashes
from datacraft.dedupe.survivors import BUCKET_CAP, MAX_ROUNDS, bucket_pairs, greedy

_IDX_MASK = np.uint64(0xFFFFFFFF)
# records added before the compiled kernel takes over: loading it costs ~0.5 s of CPU once per process
# (numba's start-up), about what the numpy path spends on 25k records; small inputs never pay it
KERNEL_AFTER = 4096


class SignatureBank:
    """Signatures and band keys of records added in batches (row = order of addition)."""

    def __init__(self, num_perm: int, bands: int, rows: int, ngram_cjk: int, ngram_word: int,
                 answer_threshold: float | None = None):
        self.k, self.bands, self.rows = num_perm, bands, rows
        self.ngram_cjk, self.ngram_word = ngram_cjk, ngram_word
        # pairs must also have answers this similar (estimated apart from the prompt); None: no check
        self.answer_threshold = answer_threshold
        # uint16 per chunk: the top 16 bits of each bin's 32-bit minimum (order-preserving, so the
        # smaller of two stored values is the pair's minimum); its bit 0 = from the answer or not
        self.sigs: list[np.ndarray] = []
        self.keys: list[np.ndarray] = []   # uint32 (rows x bands) per chunk
        self.has: list[np.ndarray] = []    # bool per chunk: False = no shingles (empty text)
        self.starts = [0]

    def __len__(self) -> int:
        return self.starts[-1]

    def add(self, texts: list[str]) -> None:
        """Add a batch of texts (raw: normalised here)."""
        if len(self) >= KERNEL_AFTER and kernel.available():  # the same bits, compiled (kernel.py)
            sig16, keys, has = kernel.bank_rows(texts, self.k, self.bands, self.rows, self.ngram_cjk,
                                                self.ngram_word)
            self.keys.append(keys)
            self.has.append(has)
            self.sigs.append(sig16)
            self.starts.append(self.starts[-1] + len(texts))
            return
        hashes, rows = shingle_hashes(texts, self.ngram_cjk, self.ngram_word, tag_answer=True)
        sig = signatures(hashes, rows, len(texts), self.k)
        self.keys.append(band_keys(sig, self.bands, self.rows))
        self.has.append(np.bincount(rows, minlength=len(texts)) > 0)
        self.sigs.append((sig >> np.uint32(16)).astype(np.uint16))
        self.starts.append(self.starts[-1] + len(texts))

    def extend(self, sig: np.ndarray, keys: np.ndarray, has: np.ndarray) -> None:
        """Add rows another bank computed (its `sigs`, `keys`, `has`): a Ray task's chunk."""
        self.sigs.append(sig)
        self.keys.append(keys)
        self.has.append(has)
        self.starts.append(self.starts[-1] + len(sig))

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


def answer_agreement(sig_a: np.ndarray, sig_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row pair: bins whose pair minimum came from an answer shingle, and how many of those agree.

    MinHash restricted to the bins where the union's minimum is an answer shingle estimates the
    Jaccard similarity of the answers alone: agreeing / answer bins (no answer bins: both empty).
    """
    n_answer = np.empty(len(sig_a), np.int64)
    agree = np.empty(len(sig_a), np.int64)
    for lo in range(0, len(sig_a), 65536):
        a, b = sig_a[lo:lo + 65536], sig_b[lo:lo + 65536]
        answer = (np.minimum(a, b) & 1).astype(bool)
        n_answer[lo:lo + 65536] = np.count_nonzero(answer, axis=1)
        agree[lo:lo + 65536] = np.count_nonzero(answer & (a == b), axis=1)
    return agree, n_answer


def answers_close(sig_a: np.ndarray, sig_b: np.ndarray, threshold: float | None) -> np.ndarray:
    """Whether each row pair's answers are at least `threshold` similar (True where there is no check)."""
    if threshold is None:
        return np.ones(len(sig_a), bool)
    agree, n_answer = answer_agreement(sig_a, sig_b)
    return agree >= np.ceil(threshold * n_answer - 1e-9)


def agreement(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Number of agreeing bins per row pair (estimated Jaccard = agreement / num_perm)."""
    out = np.empty(len(sig_a), np.int64)
    for lo in range(0, len(sig_a), 65536):  # bounded temporaries
        out[lo:lo + 65536] = np.count_nonzero(sig_a[lo:lo + 65536] == sig_b[lo:lo + 65536], axis=1)
    return out


def resolve(bank: SignatureBank, threshold: float, n_refs: int = 0, order: np.ndarray | None = None,
            cap: int = BUCKET_CAP, max_rounds: int = MAX_ROUNDS) -> np.ndarray:
    """Survivor per record (itself when kept), by the rule in `survivors`. Records [0, n_refs) are references.

    `order` lists the records in priority order (default: input order); references go first whatever it says.
    """
    n = len(bank)
    rank, by_rank = priority(n, n_refs, order)
    runs = bank.runs()
    need = int(np.ceil(threshold * bank.k - 1e-9))
    a, b, large = bucket_pairs(runs, rank, cap)
    members = np.unique(np.concatenate([a, b, *large])) if len(a) or large else np.zeros(0, np.int64)
    sig = bank.gather(by_rank[members])  # rows in rank order of `members`

    def rows(ranks: np.ndarray) -> np.ndarray:
        return sig[np.searchsorted(members, ranks)]

    agree = agreement(rows(a), rows(b))
    ok = agree >= need
    ok[ok] = answers_close(rows(a[ok]), rows(b[ok]), bank.answer_threshold)
    return survivors_from_pairs(n, n_refs, a[ok], b[ok], agree[ok], large, rows, by_rank, need,
                                bank.answer_threshold, cap, max_rounds)


def priority(n: int, n_refs: int, order: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
    """(rank of each record or None for input order, records by rank): references first, then `order`."""
    if order is None:
        return None, np.arange(n, dtype=np.int64)
    by_rank = np.concatenate([np.arange(n_refs, dtype=np.int64), order[order >= n_refs]])
    rank = np.empty(n, np.int64)
    rank[by_rank] = np.arange(n)
    return rank, by_rank


def survivors_from_pairs(n: int, n_refs: int, a: np.ndarray, b: np.ndarray, agree: np.ndarray,
                         large: list[np.ndarray], rows: Callable[[Any], np.ndarray], by_rank: np.ndarray,
                         need: int, answer_threshold: float | None, cap: int = BUCKET_CAP,
                         max_rounds: int = MAX_ROUNDS) -> np.ndarray:
    """Survivor per record from the verified pairs (ranks `a` < `b`, `agree` bins) and the big buckets.

    `rows(ranks)` gives the signature rows of ranks (a scalar rank gives one row). The local
    `resolve` and the Ray executor both end here, so their survivors and `dup_of` are the same.
    """
    def close(v: int, ranks: np.ndarray) -> np.ndarray:
        theirs = rows(ranks)
        mine = rows(v)
        got = np.count_nonzero(theirs == mine, axis=1)
        ok = got >= need
        if ok.any():  # the answer check only where the whole record passes (rarely many)
            ok[ok] = answers_close(theirs[ok], np.broadcast_to(mine, (int(ok.sum()), len(mine))),
                                   answer_threshold)
        return np.where(ok, got, -1)

    survivor = greedy(n, n_refs, a, b, agree, large, close, cap, max_rounds)
    rep = np.empty(n, np.int64)
    rep[by_rank] = by_rank[survivor]
    return rep


def longest(lengths: np.ndarray) -> np.ndarray:
    """Priority order for `keep: longest`: the longest record first (ties: the earlier)."""
    return np.lexsort((np.arange(len(lengths)), -lengths))


def components(bank: SignatureBank, threshold: float, cap: int = BUCKET_CAP) -> np.ndarray:
    """Connected components of the verified near-duplicate pairs: label = smallest index in each.

    For export's leak-free split, where A ~ B ~ C must land in one split even when A !~ C (dedupe
    itself uses `resolve`, which does not chain). In a bucket bigger than `cap`, each record is
    paired with the bucket's first `cap` records and the `cap` before it.
    """
    n = len(bank)
    a, b, large = bucket_pairs(bank.runs(), None, cap)
    extra_a, extra_b = [a], [b]
    for bucket in large:
        for d in range(1, cap + 1):  # the record d before, and the d-th record of the bucket
            extra_a += [bucket[:-d], np.full(len(bucket) - d, bucket[d - 1])]
            extra_b += [bucket[d:], bucket[d:]]
    a, b = np.concatenate(extra_a), np.concatenate(extra_b)
    if not len(a):
        return np.arange(n, dtype=np.int64)
    members = np.unique(np.concatenate([a, b]))
    sig = bank.gather(members)
    agree = agreement(sig[np.searchsorted(members, a)], sig[np.searchsorted(members, b)])
    ok = agree >= int(np.ceil(threshold * bank.k - 1e-9))
    parent = np.arange(n, dtype=np.int64)
    union(parent, a[ok], b[ok])
    return find_roots(parent, np.arange(n, dtype=np.int64))


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
