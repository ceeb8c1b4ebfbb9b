"""The plumbing every stage shares: per-stage counts, the rejects file, predicates turned into stages.

A stage is `Iterable[Record] -> Iterator[Record]`. A filter is a predicate
`keep(record) -> bool | tuple[bool, str] | tuple[bool, str, str]` (kept?, reason, detail);
`filter_stage` turns it into a stage that counts and sends what it drops to the rejects sink, so
`kept + rejected == read` holds for every stage and for the whole run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from datacraft.io.writers import JsonlWriter
from datacraft.records import Drop, Record

Stage = Callable[[Iterable[Record]], Iterator[Record]]
Predicate = Callable[[Record], Any]


# The one drop signal (datacraft.records.Drop); `Reject` is its older name, kept for callers.
Reject = Drop


@dataclass
class StageStats:
    name: str
    read: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def dropped(self) -> int:
        return sum(self.rejected.values())

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "kept": self.kept, "rejected": self.dropped,
                "reasons": dict(self.rejected.most_common()), "seconds": round(self.seconds, 3)}


class RejectSink:
    """Collects dropped records (with stage, reason, detail) into a JSONL file, or just counts them."""

    def __init__(self, path: str | None = None):
        self.path = path
        self._writer = JsonlWriter(path) if path else None
        self.count = 0
        self._captures: list[list[dict[str, Any]]] = []  # see `blocks`: rejects held back to keep their order

    def __enter__(self) -> RejectSink:
        if self._writer:
            self._writer.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool:
        return bool(self._writer.__exit__(*exc)) if self._writer else False

    def write(self, stage: str, reason: str, *, record: Record | None = None, detail: str = "",
              raw: str | None = None, source: str | None = None, **extra: Any) -> None:
        self.count += 1
        if self._writer is None:
            return
        entry: dict[str, Any] = {"stage": stage, "reason": reason}
        if detail:
            entry["detail"] = detail
        if source:
            entry["source"] = source
        entry.update(extra)
        if record is not None:
            entry["record"] = record
        if raw is not None:
            entry["raw"] = raw
        self.replay([entry])

    def replay(self, entries: list[dict[str, Any]]) -> None:
        """Write entries held back by `blocks` (to the file, or to the block stage holding them now)."""
        if self._captures:
            self._captures[-1].extend(entries)
        elif self._writer is not None:
            for entry in entries:
                self._writer.write(entry)


class Ledger:
    """Counts per stage, in pipeline order; the summary and `--stats` file are made from it."""

    def __init__(self, rejects: RejectSink | None = None):
        self.stages: dict[str, StageStats] = {}
        self.rejects = rejects or RejectSink()

    def stage(self, name: str) -> StageStats:
        if name not in self.stages:
            self.stages[name] = StageStats(name)
        return self.stages[name]

    def reject(self, stage: str, reason: str, **kwargs: Any) -> None:
        self.stage(stage).rejected[reason] += 1
        self.rejects.write(stage, reason, **kwargs)

    @property
    def read(self) -> int:
        # The "read" stage, when there is one, saw every row; else the first stage saw every record.
        first = self.stages.get("read") or next(iter(self.stages.values()), None)
        return first.read if first else 0

    @property
    def rejected(self) -> int:
        return sum(s.dropped for s in self.stages.values())

    def to_dict(self, kept: int) -> dict[str, Any]:
        by_reason: Counter[str] = Counter()
        for s in self.stages.values():
            for reason, n in s.rejected.items():
                by_reason[f"{s.name}/{reason}"] += n
        return {"read": self.read, "kept": kept, "rejected": self.rejected,
                "stages": {name: s.to_dict() for name, s in self.stages.items()},
                "reasons": dict(by_reason.most_common())}


def filter_stage(name: str, predicate: Predicate, ledger: Ledger) -> Stage:
    """Turn a predicate into a counting stage that sends what it drops to the ledger's rejects."""
    stats = ledger.stage(name)
    default_reason = getattr(predicate, "__name__", name)

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            stats.read += 1
            started = time.perf_counter()
            verdict = predicate(record)
            stats.seconds += time.perf_counter() - started
            if verdict is True or (isinstance(verdict, tuple) and verdict[0]):
                stats.kept += 1
                yield record
                continue
            reason, detail = default_reason, ""
            if isinstance(verdict, tuple):
                reason = verdict[1] if len(verdict) > 1 else reason
                detail = verdict[2] if len(verdict) > 2 else ""
            ledger.reject(name, reason, record=record, detail=detail, source=_source(record))

    return stage


def map_stage(name: str, fn: Callable[[Record], Record], ledger: Ledger) -> Stage:
    """A transforming stage; `fn` may raise `Reject` to drop the record."""
    stats = ledger.stage(name)

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            stats.read += 1
            started = time.perf_counter()
            try:
                out = fn(record)
            except Reject as rej:
                stats.seconds += time.perf_counter() - started
                ledger.reject(name, rej.reason, record=record, detail=rej.detail, source=_source(record), **rej.extra)
                continue
            stats.seconds += time.perf_counter() - started
            stats.kept += 1
            yield out

    return stage


def blocks(records: Iterable[Record], size: int, sink: RejectSink
           ) -> Iterator[tuple[list[Record], Callable[[], Iterator[Record]]]]:
    """Records in blocks of `size`, for a stage that looks at a whole block before its first record.

    Yields (block, feed): `feed()` gives the block's records one by one, first writing the rejects
    the stages upstream made while that record was being fetched, so the rejects file keeps the
    order of a stage taking records one at a time.
    """
    iterator = iter(records)
    while True:
        block: list[Record] = []
        held: list[list[dict[str, Any]]] = []
        tail: list[dict[str, Any]] = []
        while len(block) < size:
            sink._captures.append(tail)
            try:
                record = next(iterator)
            except StopIteration:
                break
            finally:
                sink._captures.pop()
            block.append(record)
            held.append(tail)
            tail = []

        def feed(block: list[Record] = block, held: list[list[dict[str, Any]]] = held) -> Iterator[Record]:
            for record, before in zip(block, held, strict=True):
                sink.replay(before)
                yield record

        if block:
            yield block, feed
        sink.replay(tail)
        if len(block) < size:
            return


def chain(records: Iterable[Record], *stages: Stage) -> Iterator[Record]:
    """Run records through stages in order."""
    stream: Iterable[Record] = records
    for stage in stages:
        stream = stage(stream)
    return iter(stream)


def _source(record: Record) -> str | None:
    rid = record.get("id")
    return str(rid) if rid is not None else None


def read_stage(paths: Iterable[str], ledger: Ledger, *, strict: bool = False, assign_ids: bool = True,
               **read_options: Any) -> Iterator[Record]:
    """Read every input as the pipeline's first stage ("read").

    Rows that are not records (invalid JSON, not an object) are rejected with their raw text and
    `path:line`; with `strict` the first one raises. Records without an `id` get `<file stem>:<line>` (see `record_id`)
    so later stages (dedupe's `dup_of`, rejects) can point at them.
    """
    # Registered now, not when iteration starts, so "read" comes first in the ledger whatever
    # stages are built before the records flow.
    stats = ledger.stage("read")
    return _read(list(paths), ledger, stats, strict, assign_ids, read_options)


def _read(paths: list[str], ledger: Ledger, stats: StageStats, strict: bool, assign_ids: bool,
          read_options: dict[str, Any]) -> Iterator[Record]:
    from datacraft.errors import InputError
    from datacraft.io.readers import Row, iter_records, record_id, source_labels

    def on_bad(row: Row) -> None:
        stats.read += 1
        ledger.reject("read", row.reason or "unreadable", detail=row.error or "", raw=row.raw, source=row.where)

    labels = source_labels(paths)  # two train.jsonl in different folders must not share ids
    for path in paths:
        label = labels[path]
        for row in iter_records(path, strict=strict, on_bad=on_bad, **read_options):
            stats.read += 1
            stats.kept += 1
            record = row.value
            if assign_ids and record.get("id") is None:
                record["id"] = record_id(label, row)
            yield record
    if paths and stats.read == 0:
        # A batch job that read nothing must not look like one that succeeded.
        raise InputError(paths[0] if len(paths) == 1 else ", ".join(paths),
                         "no records: the input is empty; check the path (or --format)")
