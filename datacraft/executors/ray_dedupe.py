"""Dedupe on Ray: the exact stage as a hash shuffle, the near stage as parallel signatures + the survivor rule.

Exact: each chunk's task hashes its records (`exact_keys`, as locally) and tags each with a bucket,
key mod the number of partitions; `groupby(bucket)` shuffles equal keys to one place, where one sort
by (key, position) finds, for each key, every record but the lowest input position: a duplicate of
that one. (A groupby on the key itself calls Python once per distinct key, about 20 µs each.)
That is the local rule (the first record with a key survives), so the drops are identical.

Near: each task computes the MinHash signatures and band keys of its chunk's exact survivors
(`SignatureBank.add`, as locally: a record's signature depends on its text alone). The driver
gathers them in input order and shares them through the object store; tasks, one per range of
bands, group records by band key, pair each bucket and verify the pairs (`resolve_on_cluster`).
The greedy survivor rule (`survivors.greedy`, with `dup_of`) is order-dependent by design and
O(records + pairs), so it runs once on the driver over the union of the verified pairs: the
answer is the local one by construction. The decisions go back to the chunks' tasks, which
write kept lines and reject entries; the driver writes them under the final names in order.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from datacraft.dedupe.config import DedupeConfig
from datacraft.dedupe.exact import EXACT_DUPLICATE, EXACT_STAGE
from datacraft.dedupe.files import read_references
from datacraft.dedupe.lsh import SignatureBank, longest, priority, survivors_from_pairs
from datacraft.dedupe.stage import (
    COPIES_REFERENCE,
    NEAR_DUPLICATE,
    NEAR_STAGE,
    add_references,
    dup_similarity,
    new_bank,
)
from datacraft.dedupe.survivors import BUCKET_CAP, MAX_ROUNDS
from datacraft.executors.dedupe_tasks import (
    apply_chunk,
    key_rows,
    later_copies,
    sign_chunk,
    verify_bands,
)
from datacraft.io.writers import atomic_write
from datacraft.stages import Ledger


def run_dedupe(executor: Any, settings: Any, base: Path, source: Path, records: Path, rejects: Path) -> dict[str, Any]:
    """Exact then near dedupe of `source` on the cluster; the counts, as the local stage returns them."""
    config = DedupeConfig(**settings.model_dump(exclude={"against"}))
    chunks = executor.chunks(source)
    items = [c.as_item() for c in chunks]
    total = sum(c.count for c in chunks)
    ledger = Ledger()
    read = ledger.stage("read")
    read.read = read.kept = total

    exact: dict[int, Any] = {}
    if config.exact:
        started = time.perf_counter()
        exact = _exact_duplicates(executor, items, config)
        stats = ledger.stage(EXACT_STAGE)
        stats.read, stats.kept, stats.seconds = total, total - len(exact), time.perf_counter() - started
        if exact:
            stats.rejected[EXACT_DUPLICATE] = len(exact)

    near: dict[int, tuple[Any, float, str]] = {}
    drops_before = np.searchsorted(np.array(sorted(exact), np.int64), [c.first for c in chunks]).tolist()
    for item, before in zip(items, drops_before, strict=True):
        item["near_first"] = item["first"] - before
        item["exact"] = orjson.dumps([[p, exact[p]] for p in sorted(exact)
                                      if item["first"] <= p < item["first"] + item["count"]])
    if config.threshold is not None:
        started = time.perf_counter()
        against = [str(base / p) for p in settings.against]
        near = _near_duplicates(executor, items, config, against)
        stats = ledger.stage(NEAR_STAGE)
        stats.read = total - len(exact)
        stats.kept = stats.read - len(near)
        stats.seconds = time.perf_counter() - started
        for q in sorted(near):
            stats.rejected[near[q][2]] += 1
    for item in items:
        lo, hi = item["near_first"], item["near_first"] + item["count"]
        item["near"] = orjson.dumps([[q, *near[q]] for q in sorted(near) if lo <= q < hi])

    kept = 0
    rows = executor.map_chunks(items, apply_chunk, threshold=config.threshold, fields=list(config.fields))
    # The local stages write every exact reject first (the near stage reads its whole input before it
    # drops anything), then the near rejects: the near ones wait in a temp file.
    with atomic_write(records, "wb") as out, atomic_write(rejects, "wb") as rej, \
            tempfile.TemporaryFile(prefix="datacraft-ray-near-") as later:
        for row in rows.iter_rows():
            out.write(row["records"])
            rej.write(row["exact"])
            later.write(row["near"])
            kept += int(row["kept"])
        later.seek(0)
        shutil.copyfileobj(later, rej)
    counts = ledger.to_dict(kept)
    counts["stages"].pop("read", None)
    return counts


def _exact_duplicates(executor: Any, items: list[dict[str, Any]], config: DedupeConfig) -> dict[int, Any]:
    """Input position -> the ref of the first record with the same key, for every later copy."""
    buckets = executor.partitions()
    keyed = executor.map_chunks(items, key_rows, fields=list(config.fields), buckets=buckets)
    copies = keyed.groupby("bucket", num_partitions=buckets).map_groups(later_copies, batch_format="pyarrow")
    found: dict[int, Any] = {}
    for batch in copies.iter_batches(batch_size=4096, batch_format="numpy"):
        for pos, first in zip(batch["pos"].tolist(), batch["first"], strict=True):
            found[pos] = orjson.loads(first)
    return found


def _near_duplicates(executor: Any, items: list[dict[str, Any]], config: DedupeConfig,
                     against: list[str]) -> dict[int, tuple[Any, float, str]]:
    """Near-stage position (0-based) -> (dup_of, estimated similarity, reason) of every record it drops."""
    assert config.threshold is not None
    bank = new_bank(config)
    ids: list[Any] = []
    lengths = array("q")
    batch = add_references(bank, read_references(against) if against else (), config, ids, lengths)
    if batch:
        bank.add(batch)
    n_refs = len(ids)
    exact_by_chunk = [[p for p, _ in orjson.loads(item["exact"])] for item in items]
    signing = [{**item, "dropped": orjson.dumps(dropped)} for item, dropped in zip(items, exact_by_chunk, strict=True)]
    signed = executor.map_chunks(signing, sign_chunk, config=config.model_dump())
    for row in signed.iter_rows():
        sig = np.frombuffer(row["sig"], np.uint16).reshape(-1, bank.k)
        keys = np.frombuffer(row["keys"], np.uint32).reshape(-1, bank.bands)
        bank.extend(sig, keys, np.frombuffer(row["has"], bool))
        lengths.extend(np.frombuffer(row["lengths"], np.int64).tolist())
        for rid in orjson.loads(row["ids"]):
            ids.append(rid if rid is not None else len(ids) - n_refs + 1)  # as the local stage: its place
    pick = longest(np.frombuffer(lengths, np.int64)) if config.keep == "longest" else None
    rep = resolve_on_cluster(executor, bank, config.threshold, n_refs, pick)
    similarity = dup_similarity(bank, rep, n_refs)
    dropped = np.flatnonzero(rep != np.arange(len(rep)))
    return {i - n_refs: (ids[r], similarity[i], COPIES_REFERENCE if r < n_refs else NEAR_DUPLICATE)
            for i, r in zip(dropped.tolist(), rep[dropped].tolist(), strict=True) if i >= n_refs}


def resolve_on_cluster(executor: Any, bank: SignatureBank, threshold: float, n_refs: int = 0,
                       order: np.ndarray | None = None, cap: int = BUCKET_CAP, max_rounds: int = MAX_ROUNDS) -> np.ndarray:
    """`lsh.resolve` with its candidate and verification work spread over the cluster by band.

    Each task takes a range of bands: groups records by band key (sorted runs), pairs each bucket,
    and verifies the pairs against the whole signature (and the answer check). The driver takes the
    union of the verified pairs, sorted and unique as `resolve` has them, and runs the same greedy
    survivor rule, so the survivors and `dup_of` are `resolve`'s.
    """
    n = len(bank)
    rank, by_rank = priority(n, n_refs, order)
    need = int(np.ceil(threshold * bank.k - 1e-9))
    sig = np.concatenate(bank.sigs) if bank.sigs else np.zeros((0, bank.k), np.uint16)
    keys = np.concatenate(bank.keys) if bank.keys else np.zeros((0, bank.bands), np.uint32)
    has = np.concatenate(bank.has) if bank.has else np.zeros(0, bool)
    ray = executor.start()
    shared = ray.put((keys, has, sig, rank, by_rank))
    groups = np.array_split(np.arange(bank.bands), min(bank.bands, executor.partitions()))
    items = [{"lo": int(g[0]), "hi": int(g[-1]) + 1} for g in groups if len(g)]
    parts_a, parts_b, parts_g, large = [], [], [], []
    for row in executor.map_chunks(items, verify_bands, shared=shared, need=need,
                                   answer_threshold=bank.answer_threshold, cap=cap).iter_rows():
        parts_a.append(np.frombuffer(row["a"], np.int64))
        parts_b.append(np.frombuffer(row["b"], np.int64))
        parts_g.append(np.frombuffer(row["agree"], np.int64))
        flat, sizes = np.frombuffer(row["large"], np.int64), np.frombuffer(row["sizes"], np.int64)
        large.extend(np.split(flat, np.cumsum(sizes)[:-1]) if len(sizes) else [])
    del shared
    a, b, agree = (np.concatenate(p) if p else np.zeros(0, np.int64) for p in (parts_a, parts_b, parts_g))
    packed, first = np.unique(a << 32 | b, return_index=True)  # a pair found in several bands: once
    a, b, agree = packed >> 32, packed & 0xFFFFFFFF, agree[first]

    return survivors_from_pairs(n, n_refs, a, b, agree, large, lambda ranks: sig[by_rank[ranks]], by_rank,
                                need, bank.answer_threshold, cap, max_rounds)
