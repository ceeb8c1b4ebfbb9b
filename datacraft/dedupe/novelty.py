"""NoveltyIndex: an incremental near-duplicate index for `generate` (is this new item too close to one we have?)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from datacraft.dedupe.config import DedupeConfig
from datacraft.dedupe.minhash import band_keys, signatures
from datacraft.dedupe.shingles import shingle_hashes


class NoveltyIndex:
    """Add texts one at a time (or in batches); `query` returns the most similar indexed text.

    A query looks only at the items sharing an LSH band with it (one dict lookup per band) and
    compares their signatures, so it stays fast as the index grows.

    >>> index = NoveltyIndex()
    >>> index.add("Write a haiku about autumn leaves falling", key="seed-1")
    >>> index.query("Write a haiku about autumn leaves falling!")
    ('seed-1', 1.0)
    >>> index.query("Explain how a hash map works") is None
    True
    """

    def __init__(self, config: DedupeConfig | None = None, threshold: float | None = None):
        self.config = config or DedupeConfig()
        # the index needs a threshold even when the config switches the near stage off
        self.threshold = threshold if threshold is not None else (self.config.threshold or 0.8)
        self._bands, self._rows = self.config.lsh_shape(self.threshold)
        self._buckets: list[dict[int, list[int]]] = [{} for _ in range(self._bands)]
        self._sigs = np.empty((64, self.config.num_perm), np.uint16)
        self._keys: list[Hashable] = []

    def __len__(self) -> int:
        return len(self._keys)

    def _sketch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = self.config
        hashes, rows = shingle_hashes(list(texts), c.ngram_cjk, c.ngram_word)
        sig = signatures(hashes, rows, len(texts), c.num_perm)
        has = np.bincount(rows, minlength=len(texts)) > 0
        return sig.astype(np.uint16), band_keys(sig, self._bands, self._rows), has

    def add(self, text: str, key: Hashable = None) -> None:
        """Index one text under `key` (default: its position in the index)."""
        self.add_many([text], [key])

    def add_many(self, texts: Sequence[str], keys: Sequence[Hashable] | None = None) -> None:
        """Index several texts at once (vectorised: use it for seed sets)."""
        keys = list(keys) if keys is not None else [None] * len(texts)
        step = self.config.batch_size
        for lo in range(0, len(texts), step):
            self._add_batch(texts[lo:lo + step], keys[lo:lo + step])

    def _add_batch(self, texts: Sequence[str], keys: list[Hashable]) -> None:
        self.add_sketched(*self._sketch(texts), keys)

    def add_sketched(self, sig: np.ndarray, bands: np.ndarray, has: np.ndarray, keys: Sequence[Hashable]) -> None:
        """Index rows already sketched by `_sketch` (a caller that queried them first need not sketch twice)."""
        start = len(self._keys)
        need = start + len(keys)
        if need > len(self._sigs):
            grown = np.empty((max(need, 2 * len(self._sigs)), self._sigs.shape[1]), np.uint16)
            grown[:start] = self._sigs[:start]
            self._sigs = grown
        self._sigs[start:need] = sig
        for offset, key in enumerate(keys):
            row = start + offset
            self._keys.append(row if key is None else key)
        present = np.flatnonzero(has)  # a text without words or characters can never match anything
        rows = (present + start).tolist()
        for band, column in enumerate(bands[present].T.tolist()):
            bucket = self._buckets[band]
            for row, value in zip(rows, column, strict=True):
                members = bucket.get(value)  # not setdefault: that builds an empty list per row
                if members is None:
                    bucket[value] = [row]
                else:
                    members.append(row)

    def query(self, text: str) -> tuple[Hashable, float] | None:
        """The most similar indexed item as (key, estimated Jaccard) if at or above the threshold, else None."""
        sig, bands, has = self._sketch([text])
        if not has[0]:
            return None
        found: set[int] = set()
        for band, value in enumerate(bands[0].tolist()):
            found.update(self._buckets[band].get(value, ()))
        if not found:
            return None
        rows = np.sort(np.fromiter(found, np.int64, len(found)))  # ties go to the earliest item
        similarity = np.count_nonzero(self._sigs[rows] == sig[0], axis=1) / self.config.num_perm
        best = int(np.argmax(similarity))
        if similarity[best] < self.threshold:
            return None
        return self._keys[int(rows[best])], float(similarity[best])
