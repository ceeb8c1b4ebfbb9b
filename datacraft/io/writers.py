"""Write records atomically: a temp file beside the target, renamed into place only on success."""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from datacraft.errors import ConfigError
from datacraft.records import Record

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps_line(record: Any) -> bytes:
    """One JSON Lines line, UTF-8, non-ASCII kept readable.

    >>> dumps_line({"a": "中"})
    b'{"a":"\\xe4\\xb8\\xad"}\\n'
    """
    return orjson.dumps(record, option=_OPTS | orjson.OPT_APPEND_NEWLINE, default=str)


def dumps_json(value: Any) -> bytes:
    """One compact JSON value as the writers write it: `dumps_line` without the newline.

    >>> dumps_json({"a": "中"}) + b"\\n" == dumps_line({"a": "中"})
    True
    """
    return orjson.dumps(value, option=_OPTS, default=str)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None,
                 buffering: int = -1) -> Iterator[IO[Any]]:
    """Open a temp file next to `path`; on success fsync and rename it over `path`, on error remove it.

    `-` writes to stdout (not atomic: a pipe cannot be).
    """
    path = str(path)
    if path == "-":
        stream = sys.stdout.buffer if "b" in mode else sys.stdout
        with _named("stdout"):
            yield stream
            stream.flush()
        return
    target = Path(path)
    with _named(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target)
        # The pid in the name tells a later run whether the writer is still alive (see remove_stale_temps).
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, _file_mode(target))  # mkstemp makes 0600; outputs get the usual umask mode
        with os.fdopen(fd, mode, buffering, encoding=encoding, **({"newline": ""} if "b" not in mode else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, BrokenPipeError) or exc.filename not in (None, tmp):
            raise
        raise _at(exc, path) from None  # name the output, not our temp file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _named(path: str) -> Iterator[None]:
    """OS errors without a file name (a full disk on write) get `path`, so the message says where."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) or (exc.filename is not None and ".tmp" not in str(exc.filename)):
            raise
        raise _at(exc, path) from None


def _at(exc: OSError, path: str) -> OSError:
    """`exc` naming `path`; an error without errno/strerror keeps its own words.

    >>> from datacraft.errors import describe_os_error
    >>> describe_os_error(_at(OSError("stream closed"), "out.jsonl"))  # was "out.jsonl: [Errno None] None: out.jsonl"
    'out.jsonl: stream closed'
    >>> _at(OSError(28, "No space left on device"), "out.jsonl").strerror
    'No space left on device'
    """
    return OSError(exc.errno, exc.strerror or str(exc) or type(exc).__name__, path)


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove temp files a killed run left beside `target`: ours, whose writing process is gone."""
    removed = []
    prefix = f".{target.name}."
    try:
        candidates = [p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for candidate in candidates:
        pid = candidate.name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _file_mode(target: Path) -> int:
    """The mode of the file being replaced, else what `open()` would give a new file (0666 & ~umask)."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


class JsonlWriter:
    """Atomic JSON Lines writer: `with JsonlWriter(path) as w: w.write(record)`."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        self.count = 0
        self._cm: Any = None
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> JsonlWriter:
        self._cm = atomic_write(self.path, "wb")
        self._handle = self._cm.__enter__()
        return self

    def write(self, record: Any) -> None:
        assert self._handle is not None, "JsonlWriter used outside `with`"
        self._handle.write(dumps_line(record))
        self.count += 1

    def __exit__(self, *exc: Any) -> bool:
        return bool(self._cm.__exit__(*exc))


class RowWriter:
    """Atomic writer of rows already serialised (`dumps_json`), as JSON Lines or as a JSON array.

    The array is the one `write_records(fmt="json")` writes: "[", each row after "\n  " (",\n  "
    from the second on), then "\n]\n"; an empty one is "[]\n".
    """

    def __init__(self, path: str | os.PathLike[str], file_format: str = "jsonl", buffering: int = -1):
        if file_format not in ("jsonl", "json"):
            raise ValueError(f"RowWriter writes jsonl or json, not {file_format!r}")
        self.path, self.array, self.buffering = str(path), file_format == "json", buffering
        self.count = 0
        self._cm: Any = None
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> RowWriter:
        self._cm = atomic_write(self.path, "wb", buffering=self.buffering)
        self._handle = self._cm.__enter__()
        if self.array:
            self._handle.write(b"[")
        return self

    def write(self, row: bytes) -> None:
        assert self._handle is not None, "RowWriter used outside `with`"
        if self.array:
            self._handle.write(b"%b%b" % (b",\n  " if self.count else b"\n  ", row))
        else:
            self._handle.write(row + b"\n")
        self.count += 1

    def __exit__(self, *exc: Any) -> bool:
        if self.array and exc[0] is None:
            assert self._handle is not None
            self._handle.write(b"\n]\n" if self.count else b"]\n")
        return bool(self._cm.__exit__(*exc))


def write_records(path: str | os.PathLike[str], records: Iterable[Record], fmt: str | None = None) -> int:
    """Write records as JSONL (default), a JSON array, CSV/TSV or Parquet; return how many."""
    path = str(path)
    fmt = fmt or {".json": "json", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}.get(
        Path(path).suffix.lower(), "jsonl")
    if fmt == "jsonl":
        with JsonlWriter(path) as writer:
            for record in records:
                writer.write(record)
        return writer.count
    if fmt == "json":
        with RowWriter(path, "json") as rows:
            for record in records:
                rows.write(dumps_json(record))
        return rows.count
    if fmt in ("csv", "tsv"):
        rows = list(records)
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        with atomic_write(path, "w", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, delimiter="\t" if fmt == "tsv" else ",")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
        return len(rows)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = list(records)
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        # from_pylist would infer the columns from the first row alone and drop the rest.
        table = pa.Table.from_pydict({c: [row.get(c) for row in rows] for c in columns})
        with atomic_write(path, "wb") as handle:
            pq.write_table(table, handle)
        return table.num_rows
    raise ConfigError(f"cannot write format {fmt!r}; choose jsonl, json, csv, tsv or parquet")


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value


def check_not_input(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse to write over an input: datacraft never overwrites what it reads."""
    if str(output) == "-":
        return
    out = Path(output).resolve()
    for source in inputs:
        if str(source) != "-" and Path(source).resolve() == out:
            raise ConfigError(f"output {output} is also an input; write to a new file (inputs are never overwritten)")
