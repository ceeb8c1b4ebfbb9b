"""Dedupe work that Ray tasks do, free of Ray: exact keys, MinHash signatures, and applying decisions.

What is decided where: keys and signatures are computed per chunk in parallel; which records are
duplicates is decided by a shuffle (exact: a groupby on the key, the lowest position survives) and
on the driver (near: `lsh.resolve`, the local executor's survivor rule, over the gathered
signatures); the kept lines and the reject entries are then written per chunk by `apply_chunk`,
with the same fields the local stages write (`exact.py`, `stage.py`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from datacraft.dedupe.config import DedupeConfig
from datacraft.dedupe.exact import BATCH, EXACT_DUPLICATE, EXACT_STAGE
from datacraft.dedupe.normalize import answer_last_text, exact_keys
from datacraft.dedupe.stage import DEDUPE_MARK, NEAR_STAGE, new_bank
from datacraft.executors.chunks import Lines, MemorySink, read_chunk
from datacraft.records import compare_text


def key_rows(item: dict[str, Any], fields: list[str], buckets: int) -> pa.Table:
    """(bucket, key, pos, ref) of every record of a chunk that has a key; ref = what `dup_of` calls it.

    bucket = key mod `buckets`: the shuffle hashes on it, so equal keys meet in one bucket.
    """
    records = list(read_chunk(item))
    keys: list[int | None] = []
    for lo in range(0, len(records), BATCH):
        keys.extend(exact_keys([compare_text(r, tuple(fields)) for r in records[lo:lo + BATCH]]))
    first = int(item["first"])
    rows = [(k, first + j, orjson.dumps(_ref(r, first + j + 1)).decode())
            for j, (r, k) in enumerate(zip(records, keys, strict=True)) if k is not None]
    # Arrow string columns: numpy str arrays would become tensors
    return pa.table({"bucket": pa.array([r[0] % buckets for r in rows], pa.int64()),
                     "key": pa.array([format(r[0], "x") for r in rows], pa.string()),
                     "pos": pa.array([r[1] for r in rows], pa.int64()),
                     "ref": pa.array([r[2] for r in rows], pa.string())})


def later_copies(bucket: pa.Table) -> pa.Table:
    """A bucket's records: for each key, every one but the lowest position, with the lowest one's ref.

    One sort per bucket (by key, then position) instead of one call per key: a key's run starts at
    its survivor, and every later row of the run points back to that row.
    """
    rows = bucket.sort_by([("key", "ascending"), ("pos", "ascending")])
    keys = rows["key"].to_numpy(zero_copy_only=False)
    start = np.ones(len(keys), bool)
    start[1:] = keys[1:] != keys[:-1]
    head = np.maximum.accumulate(np.where(start, np.arange(len(keys)), 0))
    later = np.flatnonzero(~start)
    return pa.table({"pos": rows["pos"].take(pa.array(later, pa.int64())),
                     "first": rows["ref"].take(pa.array(head[later], pa.int64()))})


def sign_chunk(item: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Signatures (as `SignatureBank.add` stores them) of a chunk's records that exact dedupe kept."""
    started = time.process_time()
    cfg = DedupeConfig(**config)
    dropped = set(orjson.loads(item["dropped"]))
    first = int(item["first"])
    records = [r for j, r in enumerate(read_chunk(item)) if first + j not in dropped]
    bank = new_bank(cfg)
    texts = [answer_last_text(r, cfg.fields) for r in records]
    for lo in range(0, len(texts), cfg.batch_size):
        bank.add(texts[lo:lo + cfg.batch_size])
    sig = np.concatenate(bank.sigs) if bank.sigs else np.zeros((0, cfg.num_perm), np.uint16)
    keys = np.concatenate(bank.keys) if bank.keys else np.zeros((0, bank.bands), np.uint32)
    has = np.concatenate(bank.has) if bank.has else np.zeros(0, bool)
    return {"sig": sig.tobytes(), "keys": keys.tobytes(), "has": has.tobytes(),
            "lengths": np.array([len(t) for t in texts], np.int64).tobytes(),
            "ids": orjson.dumps([r.get("id") for r in records]), "cpu": time.process_time() - started}


def apply_chunk(item: dict[str, Any], threshold: float | None, fields: list[str]) -> dict[str, Any]:
    """A chunk's kept lines (marked with their near-dedupe group) and its exact and near reject entries."""
    started = time.process_time()
    exact = {pos: ref for pos, ref in orjson.loads(item["exact"])}
    near = {q: (ref, sim, reason) for q, ref, sim, reason in orjson.loads(item["near"])}
    first, q = int(item["first"]), int(item["near_first"])
    exact_sink, near_sink, out = MemorySink(), MemorySink(), Lines()
    for j, record in enumerate(read_chunk(item)):
        rid = record.get("id")
        source = str(rid) if rid is not None else None
        if first + j in exact:
            ref = exact[first + j]
            exact_sink.write(EXACT_STAGE, EXACT_DUPLICATE, record=record, detail=f"same normalised text as {ref}",
                             source=source, dup_of=ref)
            continue
        q += 1  # this record's 1-based place in the near stage's input
        if threshold is None:
            out.write(record)
        elif q - 1 in near:
            ref, sim, reason = near[q - 1]
            near_sink.write(NEAR_STAGE, reason, record=record, dup_of=ref,
                            detail=f"estimated similarity {sim:.2f} to {ref}", source=source)
        else:
            meta = record.get("meta")
            if meta is None or isinstance(meta, dict):
                group = str(rid if rid is not None else q)
                record = {**record, "meta": {**(meta or {}), DEDUPE_MARK: {
                    "group": group, "threshold": threshold, "fields": list(fields)}}}
            out.write(record)
    return {"records": out.data(), "exact": exact_sink.data(), "near": near_sink.data(), "kept": out.count,
            "cpu": time.process_time() - started}


def _ref(record: dict[str, Any], position: int) -> Any:
    rid = record.get("id")
    return rid if rid is not None else position


def verify_bands(item: dict[str, Any], shared: Any, need: int, answer_threshold: float | None,
                 cap: int) -> dict[str, Any]:
    """Candidate pairs of bands [lo, hi) (a groupby on band key: sorted runs) and which of them verify.

    `shared` is an object ref of (keys, has, sig, rank, by_rank): every record's band keys and
    signature in input order, and the priority order. Returns the verified pairs (ranks a < b, with
    their agreeing bins) and the buckets too large to pair, as `lsh.resolve` computes them.
    """
    import ray

    from datacraft.dedupe.lsh import SignatureBank, agreement, answers_close
    from datacraft.dedupe.survivors import bucket_pairs

    started = time.process_time()
    keys, has, sig, rank, by_rank = ray.get(shared)
    lo, hi = int(item["lo"]), int(item["hi"])
    view = SignatureBank(sig.shape[1], hi - lo, 1, 1, 1)  # only its band keys are used: runs()
    view.keys, view.has, view.starts = [keys[:, lo:hi]], [has], [0, len(has)]
    a, b, large = bucket_pairs(view.runs(), rank, cap)
    sa, sb = sig[by_rank[a]], sig[by_rank[b]]
    agree = agreement(sa, sb)
    ok = agree >= need
    ok[ok] = answers_close(sa[ok], sb[ok], answer_threshold)
    sizes = np.array([len(g) for g in large], np.int64)
    flat = np.concatenate(large).astype(np.int64) if large else np.zeros(0, np.int64)
    return {"a": a[ok].astype(np.int64).tobytes(), "b": b[ok].astype(np.int64).tobytes(),
            "agree": agree[ok].astype(np.int64).tobytes(), "large": flat.tobytes(), "sizes": sizes.tobytes(),
            "cpu": time.process_time() - started}
