"""Work that Ray tasks do, free of Ray: a stage's input cut into line ranges, and per-chunk stage runs.

A chunk is a byte range of the previous stage's JSON Lines file holding `CHUNK` whole lines (a
multiple of every batch size inside the stages, so batching inside a chunk matches the local run).
A task reads its range, runs the *same* registry stage functions the local executor runs, and
returns its kept lines, its reject lines and its ledger counts; the driver writes them in chunk
order, so the files are byte for byte those of the local run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from datacraft.io.writers import dumps_line
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, chain

CHUNK = 16384  # records per task: a multiple of 1024 (the stages' internal batches)
_BLOCK = 1 << 26  # bytes scanned per step when cutting a file into chunks


@dataclass(frozen=True)
class Chunk:
    """Lines [first, first + count) of `path`, at bytes [start, end)."""

    path: str
    start: int
    end: int
    first: int
    count: int

    def as_item(self) -> dict[str, Any]:
        return {"path": self.path, "start": self.start, "end": self.end, "first": self.first, "count": self.count}


def cut(path: Path, per_chunk: int = CHUNK) -> list[Chunk]:
    """Cut a JSON Lines file into chunks of `per_chunk` lines (the last may be shorter).

    >>> import tempfile, os; f = tempfile.NamedTemporaryFile("wb", delete=False); _ = f.write(b"1\\n2\\n3\\n"); f.close()
    >>> [(c.start, c.end, c.first, c.count) for c in cut(Path(f.name), 2)]; os.unlink(f.name)
    [(0, 4, 0, 2), (4, 6, 2, 1)]
    """
    ends: list[int] = []  # byte offset after every per_chunk-th newline
    seen = 0
    size = path.stat().st_size
    with open(path, "rb") as handle:
        offset = 0
        while block := handle.read(_BLOCK):
            newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            # the newlines that close a chunk: line numbers seen+1 .. seen+len, every per_chunk-th
            take = np.flatnonzero((np.arange(seen + 1, seen + len(newlines) + 1) % per_chunk) == 0)
            ends.extend((newlines[take] + offset + 1).tolist())
            seen += len(newlines)
            offset += len(block)
            last_byte = block[-1:]
    total = seen + (1 if size and last_byte != b"\n" else 0)  # a last line without its newline
    if not ends or ends[-1] != size:
        ends.append(size)
    chunks, start = [], 0
    for number, end in enumerate(ends):
        first = number * per_chunk
        count = min(per_chunk, total - first)
        if count > 0:
            chunks.append(Chunk(str(path), start, end, first, count))
        start = end
    return chunks


def read_chunk(item: dict[str, Any]) -> Iterator[Record]:
    """The records of a chunk (files written by a stage: one JSON object per line)."""
    with open(item["path"], "rb") as handle:
        handle.seek(int(item["start"]))
        data = handle.read(int(item["end"]) - int(item["start"]))
    for line in data.split(b"\n"):
        if line.strip():
            yield orjson.loads(line)


class Lines:
    """A JsonlWriter into memory: the same bytes, kept for the driver to write."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.count = 0

    def write(self, record: Any) -> None:
        self.parts.append(dumps_line(record))
        self.count += 1

    def data(self) -> bytes:
        return b"".join(self.parts)


class MemorySink(RejectSink):
    """A RejectSink whose file is in memory (the same entries the local run writes)."""

    def __init__(self) -> None:
        super().__init__(None)
        self._writer = Lines()

    def data(self) -> bytes:
        return self._writer.data()


def ledger_counts(ledger: Ledger) -> list[list[Any]]:
    """A ledger's per-stage counts, in stage order, as plain JSON: [name, read, kept, [[reason, n]], seconds]."""
    return [[s.name, s.read, s.kept, list(s.rejected.items()), s.seconds] for s in ledger.stages.values()]


def merge_counts(ledger: Ledger, counts: list[list[Any]]) -> None:
    """Add one chunk's `ledger_counts` to the driver's ledger (stage and reason order as first seen)."""
    for name, read, kept, rejected, seconds in counts:
        stats = ledger.stage(name)
        stats.read += read
        stats.kept += kept
        stats.seconds += seconds
        for reason, n in rejected:
            stats.rejected[reason] += n


def run_record_stage(item: dict[str, Any], kind: str, settings: dict[str, Any], base: str,
                     source: str) -> dict[str, Any]:
    """One chunk through a per-record stage, with the registry's own build; kept lines, rejects, counts."""
    from datacraft.registry import REGISTRY, check_stage

    spec = REGISTRY[kind]
    model = check_stage(kind, settings, source)
    sink = MemorySink()
    ledger = Ledger(sink)
    out = Lines()
    started = time.process_time()
    for record in chain(read_chunk(item), *spec.build(model, ledger, Path(base))):
        out.write(record)
    return {"records": out.data(), "rejects": sink.data(), "kept": out.count,
            "counts": orjson.dumps(ledger_counts(ledger)), "cpu": time.process_time() - started}
