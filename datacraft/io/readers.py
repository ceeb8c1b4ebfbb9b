"""Read records from files, streaming where the format allows, with `path:line` for every problem."""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import mmap
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from datacraft.errors import ConfigError, InputError
from datacraft.io.encoding import detect_encoding, open_text
from datacraft.io.ids import record_id, source_labels  # noqa: F401 - re-exported for the stages
from datacraft.io.jsonscan import Scanner
from datacraft.io.jsonvalues import FLAT, checked, diagnose, log, warn
from datacraft.records import Record

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "excel", "hf")
_SUFFIXES = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
    ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel",
}
csv.field_size_limit(sys.maxsize)
_WARN_AT_MOST = 5  # warnings shown per file; the rest are counted


@dataclass(slots=True)
class Row:
    """One raw row of an input: a parsed value, or the reason it could not be parsed."""

    path: str
    line: int
    value: Any = None
    error: str | None = None
    reason: str | None = None  # snake_case reason when `error` is set
    raw: str | None = None
    sub: int = 0  # 1, 2... for the second, third... record starting on the same line (a minified array)
    warning: str | None = None  # valid but suspicious (a duplicate key): reported, the row is kept

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def detect_format(path: str | os.PathLike[str]) -> str:
    """Pick a reader from the file name (a folder saved by `datasets` is "hf").

    >>> detect_format("train.jsonl"), detect_format("data.CSV"), detect_format("-")
    ('jsonl', 'csv', 'json')
    """
    p = str(path)
    if p == "-":
        return "json"  # sniffed: a JSON array, or JSON Lines
    if os.path.isdir(p):
        return "hf"
    suffixes = [x.lower() for x in Path(p).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt in ("parquet", "excel") and p.lower().endswith(".gz"):
        fmt = None  # compressed already: gunzip it first
    if fmt is None:
        raise ConfigError(f"{p}: cannot tell the format from the file name; pass --format ({', '.join(FORMATS)})")
    return fmt


def _open_binary(path: str):
    if path == "-":
        return sys.stdin.buffer
    if os.path.isdir(path):
        raise InputError(path, "is a directory, not a file")
    try:
        if path.lower().endswith(".gz"):
            return gzip.open(path, "rb")  # noqa: SIM115 - closed by the caller
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None


def _decode_guard(path: str, rows: Iterator[Row], last_line: Callable[[], int]) -> Iterator[Row]:
    try:
        yield from rows
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"cannot decode as {exc.encoding}: {exc.reason}; pass --encoding (e.g. gb18030)", last_line() + 1
        ) from None


def _iter_jsonl_lines(path: str, lines: Iterable[str], first_line: int = 1) -> Iterator[Row]:
    for number, line in enumerate(lines, start=first_line):
        text = line.strip()
        if not text:
            continue
        try:
            yield Row(path, number, orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            yield Row(path, number, error=f"invalid JSON: {_short(str(exc.args[0] if exc.args else exc))}",
                      reason="invalid_json", raw=line.rstrip("\r\n"))


def _json_buffer(path: str, binary, encoding: str | None) -> tuple[Any, int]:
    """The file as UTF-8 bytes (a read-only mmap when it is a plain UTF-8 file) and where the JSON starts."""
    data: Any = None
    if isinstance(binary, io.BufferedReader) and binary.seekable():
        try:
            data = mmap.mmap(binary.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            return b"", 0
        except OSError:
            data = None
    if data is None:
        data = binary.read()
    encoding = encoding or detect_encoding(data[: 1 << 20])
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "ascii", "utf-8-sig"):
        return data, 3 if data[:3] == codecs.BOM_UTF8 else 0
    raw = bytes(data)
    try:
        return raw.decode(encoding).encode("utf-8", "surrogatepass"), 0
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(path, f"cannot decode as {encoding}: {exc.reason}; pass --encoding (e.g. gb18030)", line) from None


def _iter_json(path: str, binary, encoding: str | None) -> Iterator[Row]:
    """JSON arrays, objects and JSON Lines in any sequence; see `datacraft.io.jsonscan`."""
    buf, start = _json_buffer(path, binary, encoding)
    try:
        yield from Scanner(path, buf, start, factory=Row).rows()
    finally:
        if isinstance(buf, mmap.mmap):
            with contextlib.suppress(BufferError):
                buf.close()


def _iter_delimited(path: str, stream, delimiter: str) -> Iterator[Row]:
    # csv.reader + zip rather than DictReader (pure Python per row): same rows, about 15-30% less CPU.
    reader = csv.reader(stream, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    start = reader.line_num + 1
    for cells in reader:
        if not cells:  # a blank line, skipped as DictReader does
            start = reader.line_num + 1
            continue
        if len(cells) > width:
            yield Row(path, start, error="more cells than header columns", reason="bad_row",
                      raw=delimiter.join(cells[width:]))
        else:
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield Row(path, start, dict(zip(header, cells, strict=True)))
        start = reader.line_num + 1


def _iter_parquet(path: str) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(path, f"not a readable Parquet file: {exc}") from None
    number = 0
    for batch in pf.iter_batches(batch_size=4096):
        for value in batch.to_pylist():
            number += 1
            yield Row(path, number, value)


def _iter_excel(path: str) -> Iterator[Row]:
    """Every sheet, merged cells filled with their value; with several sheets rows say `path[sheet]:row`."""
    from datacraft.io.excel import iter_sheets

    sheets = iter_sheets(path)
    for many, title, number, value in sheets:
        if many:
            value["meta"] = {"sheet": title}
        yield Row(f"{path}[{title}]" if many else path, number, value)


def _iter_hf(path: str, split: str | None) -> Iterator[Row]:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        ds = load_from_disk(path)
    except FileNotFoundError:
        raise InputError(path, "is a directory, not a file (nor a dataset saved with `datasets`)") from None
    if isinstance(ds, DatasetDict):
        name = split or ("train" if "train" in ds else next(iter(ds)))
        if name not in ds:
            raise InputError(path, f"no split {name!r}; splits: {', '.join(ds)}")
        ds = ds[name]
    assert isinstance(ds, Dataset)
    for number, value in enumerate(ds, start=1):
        yield Row(path, number, value)


def iter_rows(path: str | os.PathLike[str], fmt: str | None = None, encoding: str | None = None,
              split: str | None = None) -> Iterator[Row]:
    """Yield every row of an input with its line number. Fatal problems raise InputError."""
    path = str(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"{path}: unknown --encoding {encoding!r}; e.g. utf-8, gb18030, big5hkscs, utf-16") from None
    if fmt == "hf":
        yield from _iter_hf(path, split)
        return
    if path != "-" and os.path.isdir(path):
        raise InputError(path, "is a directory, not a file")
    if fmt == "parquet":
        _open_binary(path).close()
        yield from _iter_parquet(path)
        return
    if fmt == "excel":
        _open_binary(path).close()
        yield from _iter_excel(path)
        return
    binary = _open_binary(path)
    try:
        if fmt == "jsonl":
            yield from _iter_jsonl_binary(path, binary, encoding)
        elif fmt == "json":
            yield from _iter_json(path, binary, encoding)
        else:
            text = open_text(binary, path, encoding, newline="")
            reader = _iter_delimited(path, text, "\t" if fmt == "tsv" else ",")
            yield from _decode_guard(path, reader, lambda: 0)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(path, f"not a readable gzip file: {exc}") from None
    finally:
        if binary is not sys.stdin.buffer:
            binary.close()


def _iter_jsonl_binary(path: str, binary, encoding: str | None) -> Iterator[Row]:
    """JSON Lines, split on bytes so a line that does not decode is a counted bad row with its number.

    UTF-16/32 cannot be split on b"\n"; those go through a text wrapper instead.
    """
    stream = io.BufferedReader(binary, buffer_size=1 << 20)
    encoding = encoding or detect_encoding(stream.peek(1 << 20)[: 1 << 20])
    if encoding.lower().replace("-", "").startswith(("utf16", "utf32")):
        text = open_text(stream, path, encoding)
        state = {"line": 0}

        def counted() -> Iterator[str]:
            for line in text:
                state["line"] += 1
                yield line

        yield from _decode_guard(path, _iter_jsonl_lines(path, counted()), lambda: state["line"])
        return
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig", "ascii")
    for number, line in enumerate(stream, start=1):
        row = _jsonl_row(path, number, line, encoding, utf8)
        if row is not None:
            yield row


def iter_jsonl_lines(path: str, lines: Iterable[tuple[int, bytes]]) -> Iterator[Row]:
    """The rows of some lines of a UTF-8 JSON Lines file, given with their numbers, as the reader makes them."""
    for number, line in lines:
        row = _jsonl_row(path, number, line, "utf-8", True)
        if row is not None:
            yield row


def _jsonl_row(path: str, number: int, line: bytes, encoding: str, utf8: bool) -> Row | None:
    """One line of a JSON Lines file as a Row (None for a blank line)."""
    if number == 1 and line.startswith(codecs.BOM_UTF8):
        line = line[3:]
    if not line.strip():
        return None
    try:
        data = line.rstrip() if utf8 else line.decode(encoding).rstrip()
    except UnicodeDecodeError as exc:
        return Row(path, number, error=f"cannot decode as {encoding}: {exc.reason}; pass --encoding",
                   reason="decode_error", raw=line.decode(encoding, "replace").rstrip("\r\n"))
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        message = str(exc.args[0] if exc.args else exc)
        if "not valid UTF-8" in message:
            return Row(path, number, error="not valid UTF-8; pass --encoding (e.g. gb18030)",
                       reason="decode_error", raw=line.decode("utf-8", "replace").rstrip("\r\n"))
        found = diagnose(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"), number)
        return Row(path, number, error=found["error"], reason=found["reason"],
                   raw=line.decode(encoding if not utf8 else "utf-8", "replace").rstrip("\r\n"))
    # Most rows are flat text records: two C-level tests clear them of big ints and duplicate keys.
    if type(value) is dict and (not FLAT.issuperset(map(type, value.values()))
                                or (data.count(b'":') if utf8 else data.count('":')) > len(value)):
        found = checked(value, data if isinstance(data, bytes) else data.encode("utf-8"), number)
        return Row(path, number, found.get("value"), found.get("error"), found.get("reason"), found.get("raw"),
                   warning=found.get("warning"))
    return Row(path, number, value)


def _short(message: str) -> str:
    # orjson appends ": line 1 column N (char M)"; for one-line records the column is what helps.
    head, sep, tail = message.rpartition(": line 1 column ")
    return f"{head} (column {tail.split(' ')[0]})" if sep else message


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """Parse `--map target=source` options into {target: source}.

    >>> parse_mapping(["instruction=question", "output=answer"])
    {'instruction': 'question', 'output': 'answer'}
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise ConfigError(f"bad --map {pair!r}: expected FIELD=COLUMN, e.g. instruction=question")
        mapping[target.strip()] = source.strip()
    return mapping


def apply_mapping(value: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """Rename foreign columns to Alpaca fields; unmapped columns are kept as they are.

    >>> apply_mapping({"q": "Hi", "a": "Hello", "x": 1}, {"instruction": "q", "output": "a"})
    {'x': 1, 'instruction': 'Hi', 'output': 'Hello'}
    """
    if not mapping:
        return value
    sources = set(mapping.values())
    out = {k: v for k, v in value.items() if k not in sources}
    for target, source in mapping.items():
        if source in value:
            out[target] = value[source]
    return out


def iter_records(path: str | os.PathLike[str], *, fmt: str | None = None, encoding: str | None = None,
                 mapping: dict[str, str] | None = None, strict: bool = False,
                 on_bad: Callable[[Row], None] | None = None, split: str | None = None,
                 rows: Iterable[Row] | None = None) -> Iterator[Row]:
    """Yield the rows of an input that hold a JSON object (mapped to Alpaca fields), with line numbers.

    Bad rows (invalid JSON, not an object) go to `on_bad`; with `strict` the first one raises.
    A `mapping` source column that no row of the file has is an error naming the columns there are.
    `rows`: the rows already read (validate's fast path reads only the lines it cannot clear).
    """
    fixed = (fmt or (detect_format(path) if str(path) != "-" else "json")) in ("csv", "tsv", "excel", "parquet", "hf")
    missing = set(mapping.values()) if mapping else set()
    columns: list[str] = []
    warned = 0
    for row in iter_rows(path, fmt, encoding, split) if rows is None else rows:
        if row.error is None and not isinstance(row.value, dict):
            row.error = f"expected a JSON object, got {type(row.value).__name__}"
            row.reason = "not_an_object"
            row.raw = json.dumps(row.value, ensure_ascii=False, default=str)[:1000]
        if row.error is not None:
            if strict:
                raise InputError(row.path, row.error, row.line)
            if on_bad is not None:
                on_bad(row)
            continue
        if row.warning:
            warned += 1
            if warned <= _WARN_AT_MOST:
                warn(row.path, row.line, row.warning)
        if missing:
            if not columns and ("conversations" in row.value or "messages" in row.value
                                or all(target in row.value for target in mapping)):
                missing = set()  # chat records, or records already in Alpaca form: the --map is not for this file
            missing = {c for c in missing if c not in row.value}
            if not columns:
                columns = [str(k) for k in row.value]
            if missing and fixed:
                _missing_columns(path, missing, columns, mapping)
        if mapping:
            row.value = apply_mapping(row.value, mapping)
        yield row
    if warned > _WARN_AT_MOST:
        log.warning("%s: %d more rows with the same kind of warning", path, warned - _WARN_AT_MOST)
    if missing and columns:
        _missing_columns(path, missing, columns, mapping)


def _missing_columns(path: Any, missing: set[str], columns: list[str], mapping: dict[str, str]) -> None:
    pairs = ", ".join(f"{t}={s}" for t, s in mapping.items() if s in missing)
    raise ConfigError(f"{path}: --map {pairs}: no such column; the columns are: {', '.join(columns)}")


def read_records(path: str | os.PathLike[str], **options: Any) -> Iterator[Record]:
    """Yield the records of an input as dicts; options as for `iter_records`."""
    for row in iter_records(path, **options):
        yield row.value
