"""Fused record stages: consecutive stages of `datacraft run` as one stream, with the files of each.

Run one by one, every record stage parses the previous stage's JSON Lines file again (5-10 µs a
record). Fused, each stage still writes its output and rejects exactly as `runner.run_stages`
would, but the next stage takes the records in memory: a record that would read back changed
(a tuple, a NaN, an int key) is written and parsed again, so the next stage sees what it would
have read. A stage's files are renamed into place as soon as its input is exhausted; an error
removes the temp files of the stages still running, and a kill leaves only temp names.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson

from datacraft.io.jsonvalues import MAX_DEPTH, checked, warn
from datacraft.io.writers import JsonlWriter, dumps_line
from datacraft.records import Record
from datacraft.runner import BuildStages, check_paths, progress
from datacraft.stages import Ledger, RejectSink, StageStats, chain

CHUNK = 64  # records a stage's tee pulls at once: the clock is read per chunk, not per record


@dataclass
class StreamPart:
    """One record stage in a fused stream: what it would read, where it writes, its stages."""

    desc: str  # the progress bar's label
    inputs: Sequence[str]  # what the stage would read on its own (for the path check, and `path:line` of a re-read)
    output: str
    rejects: str
    build: BuildStages


class StageClock:
    """CPU and wall seconds per stage of a fused stream, charged to whichever stage is running.

    The stages of one stream run interleaved in one thread: stage i's code runs while stage i+1
    pulls records from it. Each stage's tee switches the clock to its stage around every pull of a
    chunk from upstream (`enter`) and back when the chunk is written (`leave`): the time between two
    switches goes to the stage on top. This is the difference of cumulative pull times: stage i's
    pulls contain stage i-1's, and the clock takes i-1's out of i's. Bookkeeping (output digests,
    the manifest) runs under `None` and is charged to no stage, as in an unfused run.
    """

    def __init__(self, stages: int):
        self.cpu = [0.0] * stages
        self.wall = [0.0] * stages
        self._stack: list[int | None] = []
        self._mark = (time.process_time(), time.perf_counter())

    def _charge(self) -> None:
        now = (time.process_time(), time.perf_counter())
        if self._stack and self._stack[-1] is not None:
            top = self._stack[-1]
            self.cpu[top] += now[0] - self._mark[0]
            self.wall[top] += now[1] - self._mark[1]
        self._mark = now

    def enter(self, stage: int | None) -> None:
        self._charge()
        self._stack.append(stage)

    def leave(self) -> None:
        self._charge()
        self._stack.pop()


_SCALARS = frozenset({str, int, bool, type(None)})
_KEYS = frozenset({str})


def reads_back_as_itself(value: Any, depth: int = 1) -> bool:
    """Whether `value`, written as a JSON line and read back by the readers, is equal to it, with the same types.

    True for dicts (str keys), lists, str, int, bool, None and finite floats, nested at most
    MAX_DEPTH deep; a tuple, a NaN or an int key would come back changed. (Ints past 64 bits
    cannot be written at all.)

    >>> reads_back_as_itself({"id": "a:1", "meta": {"score": 0.5, "tags": ["x"]}})
    True
    >>> reads_back_as_itself({"meta": {"pair": (1, 2)}}), reads_back_as_itself({"score": float("nan")})
    (False, False)
    """
    kind = type(value)
    if kind is dict:
        if depth > MAX_DEPTH or not _KEYS.issuperset(map(type, value)):
            return False
        items: Iterable[Any] = value.values()
    elif kind is list:
        if depth > MAX_DEPTH:
            return False
        items = value
    elif kind is float:
        return math.isfinite(value)
    else:
        return kind in _SCALARS
    if _SCALARS.issuperset(map(type, items)):  # in C: most containers hold text and numbers only
        return True
    for item in items:  # a loop, not all(...): a record's check is on every record's path
        if type(item) not in _SCALARS and not reads_back_as_itself(item, depth + 1):
            return False
    return True


def _handoff(records: Iterable[Record], ledger: Ledger, stats: StageStats, path: str) -> Iterator[Record]:
    """The previous stage's records as this stage would read them back from `path`, counted as its "read".

    Almost every record reads back as itself and is passed on as it is; any other is written and
    parsed again, with the readers' own checks (a bad row is a "read" reject, as from the file).
    """
    for line, record in enumerate(records, start=1):
        stats.read += 1
        if type(record) is not dict or not reads_back_as_itself(record):
            data = dumps_line(record).rstrip()
            found = checked(orjson.loads(data), data, line)
            if "error" in found:
                ledger.reject("read", found["reason"], detail=found["error"], raw=found["raw"], source=f"{path}:{line}")
                continue
            if found.get("warning"):
                warn(path, line, found["warning"])
            record = found["value"]
        stats.kept += 1
        yield record


class _Open:
    """A stage of the stream while it runs: its files (temp names until `close`), ledger and tee."""

    def __init__(self, part: StreamPart):
        self.files = contextlib.ExitStack()
        try:
            self.sink = self.files.enter_context(RejectSink(part.rejects))
            self.writer = self.files.enter_context(JsonlWriter(part.output))
        except BaseException as exc:
            self.files.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.ledger = Ledger(self.sink)
        self.ledger.stage("read")  # registered first, as in run_stages
        self.tee: Iterator[Record] = iter(())
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.files.close()  # the writer's file, then the rejects: fsynced and renamed into place

    def abort(self, exc: BaseException) -> None:
        if not self.closed:
            self.closed = True
            self.files.__exit__(type(exc), exc, exc.__traceback__)  # temp files removed, final names untouched


def run_stream(source: Callable[[Ledger], Iterable[Record]], parts: Sequence[StreamPart],
               done: Callable[[int, dict[str, Any], float, float], None], *,
               show_progress: bool | None = None) -> None:
    """Run record stages as one stream: each writes its own output and rejects, the next takes its records in memory.

    `source(ledger)` feeds the first part. Each part's files are renamed into place, and
    `done(index, counts, seconds, cpu_seconds)` called, as soon as its upstream is exhausted and it
    has passed on its last record, so an interruption later leaves the stages before resumable.
    An exception anywhere removes the temp files of every part not yet closed.
    """
    for part in parts:
        check_paths([str(p) for p in part.inputs], {"output": part.output, "--rejects": part.rejects})
    clock = StageClock(len(parts))
    opened: list[_Open] = []

    def close(index: int) -> None:
        for earlier in opened[:index]:  # a stage that stopped pulling early: its upstream still writes everything
            if not earlier.closed:
                deque(earlier.tee, maxlen=0)
        stage = opened[index]
        stage.close()
        counts = stage.ledger.to_dict(stage.writer.count)
        clock.enter(None)
        done(index, counts, round(clock.wall[index], 3), round(clock.cpu[index], 3))
        clock.leave()

    try:
        stream: Iterable[Record] = ()
        for index, part in enumerate(parts):
            clock.enter(index)
            stage = _Open(part)
            opened.append(stage)
            if index == 0:
                records = source(stage.ledger)
            else:
                records = _handoff(stream, stage.ledger, stage.ledger.stages["read"], parts[index - 1].output)
            stage.tee = _tee(index, chain(progress(records, part.desc, enabled=show_progress), *part.build(stage.ledger)),
                             stage.writer, clock, close)
            stream = stage.tee
            clock.leave()
        deque(stream, maxlen=0)
    except BaseException as exc:
        for stage in opened:
            stage.abort(exc)
        raise


def _tee(index: int, records: Iterable[Record], writer: JsonlWriter, clock: StageClock,
         close: Callable[[int], None]) -> Iterator[Record]:
    """Stage `index`'s records: each written to its file as it comes, then passed on a chunk at a time."""
    iterator = iter(records)
    write = writer.write
    while True:
        clock.enter(index)
        chunk = []
        for record in islice(iterator, CHUNK):
            write(record)  # before the next is pulled: what the stage does later cannot change what was written
            chunk.append(record)
        last = len(chunk) < CHUNK
        if last:
            close(index)
        clock.leave()
        yield from chunk
        if last:
            return
