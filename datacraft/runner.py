"""The one runner: read the inputs, assign ids, run stages, write output and rejects atomically.

Every record command (clean, dedupe, validate's filter, export, stats) and `datacraft run` go
through `run_stages` or, for commands that do not write a record file, `check_paths` and
`progress`. `check_paths` is the one path check, with the same one-line error in every command.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from datacraft.errors import ConfigError
from datacraft.io.writers import JsonlWriter, atomic_write
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, Stage, chain, read_stage

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
