"""The one runner: read the inputs, assign ids, run stages, write output and rejects atomically.

Every record command (clean, dedupe, validate's filter, export, stats) and `datacraft run` go
through `run_stages` or, for commands that do not write a record file, `check_paths` and
`progress`. `check_paths` is the one path check, with the same one-line error in every command.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from datacraft.errors import ConfigError
from datacraft.io.jsonvalues import MAX_DEPTH, checked, warn
from datacraft.io.writers import JsonlWriter, atomic_write, dumps_line
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, Stage, StageStats, chain, read_stage

BuildStages = Callable[[Ledger], list[Stage]]


def _same(a: str, b: str) -> bool:
    return a == b or (a != "-" and b != "-" and Path(a).resolve() == Path(b).resolve())


def check_paths(inputs: Sequence[str], outputs: Mapping[str, str | None] | None = None, *,
                folders: Mapping[str, str | None] | None = None, references: Sequence[str] = ()) -> None:
    """Refuse conflicting paths before any work starts; raises ConfigError with one line.

    `outputs` maps what the user calls an output (`output` for -o, `--rejects`, `--stats`) to the
    file it writes (`-` = stdout); `folders` maps an option name to a folder the command writes into.

    >>> check_paths(["a.jsonl"], {"output": "-", "--rejects": "-"})
    Traceback (most recent call last):
    ...
    datacraft.errors.ConfigError: output and --rejects both write to stdout (-); send one of them to a file
    >>> check_paths(["a.jsonl"], {"output": "a.jsonl"})
    Traceback (most recent call last):
    ...
    datacraft.errors.ConfigError: output a.jsonl is also an input; write to a new file (inputs are never overwritten)
    """
    inputs, references = [str(p) for p in inputs], [str(p) for p in references]
    if not inputs:
        raise ConfigError("no input files given (use - to read stdin)")
    if (inputs + references).count("-") > 1:
        raise ConfigError("stdin (-) can be read only once")
    for path in inputs:
        if path != "-" and any(_same(path, ref) for ref in references):
            raise ConfigError(f"{path} is both an input and a reference (--against); every record would be dropped")
    sources = inputs + references
    given = [(name, str(path)) for name, path in (outputs or {}).items() if path is not None]
    for number, (name, path) in enumerate(given):
        for other, earlier in given[:number]:
            if path == "-" and earlier == "-":
                raise ConfigError(f"{other} and {name} both write to stdout (-); send one of them to a file")
            if _same(path, earlier):
                raise ConfigError(f"{name} {path} is the same file as the {other}; give it another name")
        if path == "-":
            continue
        if any(_same(path, source) for source in sources):
            raise ConfigError(f"{name} {path} is also an input; write to a new file (inputs are never overwritten)")
        if Path(path).is_dir():
            raise ConfigError(f"{name} {path} is a directory; give a file name, e.g. {Path(path) / 'out.jsonl'}")
    for name, folder in (folders or {}).items():
        if folder is None:
            continue
        root = Path(folder).resolve()
        for source in sources:
            if source != "-" and (root == Path(source).resolve() or root in Path(source).resolve().parents):
                raise ConfigError(f"{name} {folder} holds the input {source}; write to a new folder "
                                  "(inputs are never overwritten)")


def progress(records: Iterable[Record], desc: str, *, enabled: bool | None = None) -> Iterator[Record]:
    """Pass records through, with a tqdm bar (records/s) on stderr when stderr is a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield from records
        return
    from tqdm import tqdm

    with tqdm(desc=desc, unit=" rec", file=sys.stderr, dynamic_ncols=True, mininterval=0.5, leave=False) as bar:
        for record in records:
            bar.update()
            yield record


def read_inputs(inputs: Sequence[str], ledger: Ledger, read_options: dict[str, Any] | None = None, *,
                strict: bool = False, assign_ids: bool = True, desc: str = "records",
                show_progress: bool | None = None) -> Iterator[Record]:
    """The "read" stage over `inputs` (ids, bad rows to the rejects), with the progress bar."""
    ledger.stage("read")  # registered first: Ledger.read counts the first stage's input
    return progress(read_stage(inputs, ledger, strict=strict, assign_ids=assign_ids, **(read_options or {})),
                    desc, enabled=show_progress)


def run_stages(inputs: Sequence[str], output: str, build: BuildStages, *, rejects: str | None = None,
               stats: str | None = None, read_options: dict[str, Any] | None = None, strict: bool = False,
               assign_ids: bool = True, references: Sequence[str] = (), desc: str = "records",
               show_progress: bool | None = None,
               source: Callable[[Ledger], Iterable[Record]] | None = None) -> dict[str, Any]:
    """Read `inputs`, run the stages `build(ledger)` returns, write `output` and `rejects`; the counts.

    The result is the ledger (read, kept, rejected, per-stage counts and reasons, seconds);
    `stats` writes it as JSON too. Nothing is written when a path check fails. `source` replaces
    the plain read of `inputs` (the pipeline reads each input with its own options).
    """
    inputs = [str(p) for p in inputs]
    check_paths(inputs, {"output": output, "--rejects": rejects, "--stats": stats},
                references=references)
    started = time.perf_counter()
    with RejectSink(rejects) as sink, JsonlWriter(output) as writer:
        ledger = Ledger(sink)
        ledger.stage("read")  # registered first: Ledger.read counts the first stage's input
        records = (progress(source(ledger), desc, enabled=show_progress) if source is not None else
                   read_inputs(inputs, ledger, read_options, strict=strict, assign_ids=assign_ids, desc=desc,
                               show_progress=show_progress))
        for record in chain(records, *build(ledger)):
            writer.write(record)
    result = ledger.to_dict(writer.count)
    result["seconds"] = round(time.perf_counter() - started, 3)
    if stats:
        write_json(stats, result)
    return result


def write_json(path: str, data: Any) -> None:
    """Write `data` as indented JSON, atomically (`-`: stdout)."""
    with atomic_write(path, "wb") as handle:
        handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


# --- Fused stages: consecutive record stages as one stream -------------------------------------

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
        self.sink = self.files.enter_context(RejectSink(part.rejects))
        self.writer = self.files.enter_context(JsonlWriter(part.output))
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
