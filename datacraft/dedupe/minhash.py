"""MinHash signatures by one-permutation hashing (OPH) with optimal densification, and LSH band keys.

Classic MinHash hashes every shingle K times (cost shingles x K). OPH hashes each shingle once:
its top bits pick one of K bins, its low 32 bits are the value, and each bin keeps its minimum
(cost shingles + K). Empty bins borrow the value of the first non-empty bin along a fixed probe
sequence (Shrivastava 2017, "Optimal densification for fast and accurate minwise hashing"), so two
sets still agree on a bin with probability equal to their Jaccard similarity.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from datacraft.dedupe.shingles import U64, constants, mix64

EMPTY = np.uint32(0xFFFFFFFF)
_PROBES = 24  # random probes per empty bin before falling back to the next non-empty bin to the right


@cache
def _probe_table(k: int) -> np.ndarray:
    """Fixed random probe sequence per bin (k x _PROBES), identical in every process."""
    raw = constants(k * _PROBES, salt=0xD3) >> U64(11)
    return (raw % U64(k)).astype(np.int64).reshape(k, _PROBES)


@cache
def _band_weights(rows: int) -> np.ndarray:
    return constants(rows, salt=0xB4)


def signatures(hashes: np.ndarray, rows: np.ndarray, n: int, k: int) -> np.ndarray:
    """OPH signatures (n x k uint32) from shingle hashes and the row each belongs to.

    Rows without shingles stay all EMPTY; callers skip them.
    """
    if k & (k - 1) == 0:  # a power of two: the top bits are the bin
        shift = k.bit_length() - 1
        flat = (rows.astype(np.int64) << shift) | (hashes >> U64(64 - shift)).astype(np.int64)
    else:  # top 32 bits scaled to [0, k)
        flat = rows.astype(np.int64) * k + (((hashes >> U64(32)) * U64(k)) >> U64(32)).astype(np.int64)
    sig = np.full(n * k, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, flat, hashes.astype(np.uint32))
    sig = sig.reshape(n, k)
    _densify(sig)
    return sig


def _densify(sig: np.ndarray) -> None:
    """Fill empty bins in place from the original non-empty bins (rows with none stay empty)."""
    n, k = sig.shape
    original = sig.copy()
    empty = original == EMPTY
    has_any = ~empty.all(axis=1)
    r, b = np.nonzero(empty & has_any[:, None])
    if not len(r):
        return
    # all probes of every empty bin in one gather; each bin takes its first non-empty probe
    values = original[r[:, None], _probe_table(k)[b]]
    found = values != EMPTY
    hit = found.any(axis=1)
    first = found.argmax(axis=1)
    sig[r[hit], b[hit]] = values[np.flatnonzero(hit), first[hit]]
    r, b = r[~hit], b[~hit]
    if not len(r):
        return
    # Rare (rows with very few shingles): the next non-empty bin to the right, wrapping around.
    sub_rows, inverse = np.unique(r, return_inverse=True)
    filled = ~empty[sub_rows]
    doubled = np.concatenate([filled, filled], axis=1)
    cols = np.where(doubled, np.arange(2 * k), 2 * k)
    nxt = np.minimum.accumulate(cols[:, ::-1], axis=1)[:, ::-1]
    sig[r, b] = original[r, nxt[inverse, b] % k]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint32 key per band (n x bands): equal keys = the band's rows all agree."""
    n = sig.shape[0]
    block = sig[:, : bands * rows].reshape(n, bands, rows).astype(U64)
    combined = (block * _band_weights(rows)).sum(axis=2, dtype=U64)  # wraps modulo 2^64
    return (mix64(combined) >> U64(32)).astype(np.uint32)
