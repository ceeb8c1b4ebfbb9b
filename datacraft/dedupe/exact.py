"""Exact-duplicate removal: one 128-bit hash of the normalised text per record, streaming."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from datacraft.dedupe.normalize import exact_keys
from datacraft.records import COMPARE_FIELDS, Record, compare_text
from datacraft.stages import Ledger, Stage

EXACT_STAGE = "exact_dedupe"
EXACT_DUPLICATE = "exact_duplicate"
BATCH = 1024  # records hashed together (normalisation is vectorised); output lags input by at most this


def record_ref(record: Record, position: Any) -> Any:
    """What `dup_of` calls a record: its id, or else `position` (the 1-based place in the stage input)."""
    rid = record.get("id")
    return rid if rid is not None else position


def exact_dedupe(ledger: Ledger, fields: Sequence[str] = COMPARE_FIELDS) -> Stage:
    """Stage that drops records whose normalised text equals an earlier record's (`dup_of` = that record).

    Records with no words or characters in the compared fields are passed on: nothing to compare.
    """
    stats = ledger.stage(EXACT_STAGE)
    fields = tuple(fields)

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        seen: dict[int, Any] = {}  # key -> the kept record's ref; a fresh index per run of the stage
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH:
                yield from decide(batch, seen)
                batch = []
        yield from decide(batch, seen)

    def decide(batch: list[Record], seen: dict[int, Any]) -> Iterator[Record]:
        started = time.perf_counter()
        keys = exact_keys([compare_text(r, fields) for r in batch])
        stats.seconds += time.perf_counter() - started
        for record, key in zip(batch, keys, strict=True):
            stats.read += 1
            first = seen.get(key) if key is not None else None  # no words at all: nothing to compare
            if first is None:
                if key is not None:
                    seen[key] = record_ref(record, stats.read)
                stats.kept += 1
                yield record
                continue
            rid = record.get("id")
            ledger.reject(EXACT_STAGE, EXACT_DUPLICATE, record=record, detail=f"same normalised text as {first}",
                          source=str(rid) if rid is not None else None, dup_of=first)

    return stage
