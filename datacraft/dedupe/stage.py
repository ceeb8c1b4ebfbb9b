"""The near-duplicate stage (MinHash + LSH over a whole input) and cluster labels for plain texts.

Near-dedupe must see every record before it can say which one of a group survives, so the stage
parks records in a spool (in memory for small inputs, an anonymous temp file beyond that) while it
computes signatures batch by batch, decides, then replays the spool: kept records go on, the
others go to the rejects file with `dup_of` naming the survivor. Memory holds signatures and ids,
not records.
"""

from __future__ import annotations

import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson

from datacraft.dedupe.config import DedupeConfig
from datacraft.dedupe.exact import record_ref
from datacraft.dedupe.lsh import SignatureBank, agreement, components, longest, resolve
from datacraft.dedupe.normalize import answer_last_text
from datacraft.io.writers import dumps_line
from datacraft.records import Record
from datacraft.stages import Ledger, Stage

NEAR_STAGE = "near_dedupe"
NEAR_DUPLICATE = "near_duplicate"
COPIES_REFERENCE = "copies_reference"
SPOOL_LIMIT = 20000  # records held in memory before the spool moves to a temp file
DEDUPE_MARK = "dedupe"  # the meta key export reads (export.split.DEDUPE_KEY)


class Spool:
    """Records kept aside in arrival order: a list up to `limit`, then a self-deleting temp file."""

    def __init__(self, limit: int | None = None):
        self.limit = SPOOL_LIMIT if limit is None else limit
        self.count = 0
        self._items: list[Record] = []
        self._file: Any = None

    def append(self, record: Record) -> None:
        self.count += 1
        if self._file is None:
            self._items.append(record)
            if len(self._items) > self.limit:
                self._spill()
            return
        self._file.write(dumps_line(record))

    def _spill(self) -> None:
        # TemporaryFile has no name on POSIX: nothing is left behind, whatever happens to the process.
        # Records are JSON data, so JSON Lines through orjson round-trips them exactly.
        self._file = tempfile.TemporaryFile(prefix="datacraft-dedupe-", buffering=1 << 20)
        items, self._items = self._items, []
        for record in items:
            self._file.write(dumps_line(record))

    def __iter__(self) -> Iterator[Record]:
        if self._file is None:
            yield from self._items
            return
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield orjson.loads(line)

    def close(self) -> None:
        self._items = []
        if self._file is not None:
            self._file.close()
            self._file = None


def add_references(bank: SignatureBank, refs: Iterable[Record], config: DedupeConfig, ids: list[Any],
                   lengths: array) -> list[str]:
    """Sign the `--against` records into `bank` first (ids `reference:N` unless they have one).

    Returns the texts of the last, unsigned batch, for the caller to continue with its own records.
    """
    batch: list[str] = []
    for n, ref in enumerate(refs, start=1):
        ids.append(record_ref(ref, f"reference:{n}"))
        batch.append(answer_last_text(ref, config.fields))
        lengths.append(0)  # a reference never loses to `keep: longest`
        if len(batch) >= config.batch_size:
            bank.add(batch)
            batch = []
    return batch


def new_bank(config: DedupeConfig) -> SignatureBank:
    """An empty signature bank with the config's MinHash/LSH/shingle settings."""
    bands, rows = config.lsh_shape()
    return SignatureBank(config.num_perm, bands, rows, config.ngram_cjk, config.ngram_word,
                         config.answer_threshold)


def near_dedupe(ledger: Ledger, config: DedupeConfig | None = None,
                against: Iterable[Record] | None = None) -> Stage:
    """Stage that drops near-duplicates, keeping one record per cluster (`config.keep`).

    Records that near-duplicate a reference in `against` are dropped as `copies_reference`;
    references are never output. Each dropped record carries `dup_of` (the survivor's id), and each
    kept one its cluster in `meta.dedupe` (`group`: its own id, with the threshold and the compared
    fields), so that export can group without clustering again.
    """
    config = config or DedupeConfig()
    if not config.enabled or config.threshold is None:
        return lambda records: iter(records)
    stats = ledger.stage(NEAR_STAGE)
    threshold: float = config.threshold

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        bank = new_bank(config)
        ids: list[Any] = []  # references first, then the input records
        lengths = array("q")
        batch: list[str] = []
        spool = Spool()
        try:
            batch = add_references(bank, against or (), config, ids, lengths)
            n_refs = len(ids)
            spent = 0.0
            for record in records:
                started = time.perf_counter()
                stats.read += 1
                text = answer_last_text(record, config.fields)
                batch.append(text)
                lengths.append(len(text))
                rid = record.get("id")
                ids.append(rid if rid is not None else stats.read)  # as record_ref, inlined: per record
                spool.append(record)
                if len(batch) >= config.batch_size:
                    bank.add(batch)
                    batch = []
                spent += time.perf_counter() - started
            started = time.perf_counter()
            if batch:
                bank.add(batch)
            pick = longest(np.frombuffer(lengths, np.int64)) if config.keep == "longest" else None
            rep = resolve(bank, threshold, n_refs, pick)
            similarity = dup_similarity(bank, rep, n_refs)
            reps = rep.tolist()
            stats.seconds += spent + time.perf_counter() - started
            fields = list(config.fields)
            for i, record in enumerate(spool, start=n_refs):
                r = reps[i]
                if r == i:
                    stats.kept += 1
                    meta = record.get("meta")
                    if meta is None or isinstance(meta, dict):  # a copy: in-memory spools hold the caller's dicts
                        record = {**record, "meta": {**(meta or {}), DEDUPE_MARK: {
                            "group": str(ids[i]), "threshold": threshold, "fields": fields}}}
                    yield record
                    continue
                reason = COPIES_REFERENCE if r < n_refs else NEAR_DUPLICATE
                ledger.reject(NEAR_STAGE, reason, record=record, dup_of=ids[r],
                              detail=f"estimated similarity {similarity[i]:.2f} to {ids[r]}",
                              source=str(ids[i]) if record.get("id") is not None else None)
        finally:
            spool.close()

    return stage


def dup_similarity(bank: SignatureBank, rep: np.ndarray, n_refs: int) -> dict[int, float]:
    """Estimated Jaccard similarity of each dropped record to the record it duplicates."""
    dropped = np.flatnonzero(rep != np.arange(len(rep)))
    dropped = dropped[dropped >= n_refs]
    if not len(dropped):
        return {}
    agree = agreement(bank.gather(dropped), bank.gather(rep[dropped]))
    return dict(zip(dropped.tolist(), (agree / bank.k).tolist(), strict=True))


def near_duplicate_clusters(texts: Sequence[str], config: DedupeConfig | None = None) -> list[int]:
    """Cluster label per text: equal labels are near-duplicates (label = first member's index).

    >>> near_duplicate_clusters(["the cat sat on the mat today", "The cat sat on the mat today!", "a dog"])
    [0, 0, 2]
    """
    config = config or DedupeConfig()
    if config.threshold is None or not texts:
        return list(range(len(texts)))
    bank = new_bank(config)
    for lo in range(0, len(texts), config.batch_size):
        bank.add(list(texts[lo:lo + config.batch_size]))
    return components(bank, config.threshold).tolist()
