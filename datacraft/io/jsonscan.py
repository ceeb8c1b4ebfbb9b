"""JSON files as a stream of rows, each with the line it starts on.

A `.json` file may hold one array, several arrays one after another (`cat a.json b.json`), an
array followed by JSON Lines, or JSON Lines alone; every element and every object is a row, and
whatever is not JSON becomes a bad row with its line, never silently dropped. A single object
that wraps the records (`{"version": 1, "data": [...]}`) gives the records it wraps.

Element boundaries are found by a C-speed regex for the likely end of an object (`}` before `,`
or `]`) and confirmed by orjson parsing exactly that slice (a JSON value has one end, so a slice
that parses is the element); only when that fails does a bracket-matching tokenizer take over.
No whole-file parse, and a file is read through `mmap`, so a 10 GB array streams.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import orjson

from datacraft.errors import InputError

log = logging.getLogger("datacraft.io")

_OBJECT_END = re.compile(rb"\}[ \t\r\n]*(?=[,\]])")
_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|[\[\]{}]|"')
_SCALAR = re.compile(rb'"(?:[^"\\\n]|\\.)*"|[^,\]\s]+')
_SPACE = b" \t\r\n"
_TRIES = 8  # candidate ends tried before the exact tokenizer takes over
_NON_FINITE = re.compile(rb"(?<![\w\"])-?(?:NaN|Infinity)(?![\w\"])")
_BIG_INT = re.compile(rb"(?<![\w.\"])-?\d{20,}(?![\w.])")
# Keys that hold the records in a wrapper object; other members must be plain values (version...).
WRAPPER_KEYS = ("data", "rows", "records", "examples", "items", "samples", "train")


class Scanner:
    """Walks a UTF-8 buffer (bytes or mmap) from `pos`, counting lines as it goes."""

    def __init__(self, path: str, buf: Any, pos: int = 0, line: int = 1, end: int | None = None):
        self.path, self.buf, self.pos, self.line = path, buf, pos, line
        self.end = len(buf) if end is None else end
        self._last_line, self._sub = 0, 0

    # -- moving ------------------------------------------------------------------------------
    def skip_space(self) -> None:
        buf, pos, end = self.buf, self.pos, self.end
        start = pos
        while pos < end and buf[pos] in _SPACE:
            pos += 1
        if pos != start:
            self.line += buf[start:pos].count(b"\n")
        self.pos = pos

    def take(self, to: int) -> bytes:
        """The bytes from here to `to`, moving past them."""
        chunk = self.buf[self.pos:to]
        self.line += chunk.count(b"\n")
        self.pos = to
        return chunk

    def line_end(self) -> int:
        found = self.buf.find(b"\n", self.pos, self.end)
        return self.end if found < 0 else found

    # -- rows ----------------------------------------------------------------------------------
    def row(self, line: int, **fields: Any) -> dict[str, Any]:
        # Records that start on one line (a minified array) get a sub-number, so ids stay unique.
        if line == self._last_line:
            self._sub += 1
        else:
            self._last_line, self._sub = line, 0
        return {"line": line, "sub": self._sub, **fields}

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every top-level value as rows: array elements, objects, and bad rows for the rest.

        A file that does not start like JSON at all is not a JSON file: that raises InputError.
        """
        started = False
        while True:
            self.skip_space()
            if self.pos >= self.end:
                return
            first = self.buf[self.pos]
            if first == 0x5B:  # [
                if not (yield from self._array()):
                    return
            elif first == 0x7B:  # {
                yield from self._object()
            elif not started:
                raise InputError(self.path, "not JSON: expected an array of records or JSON Lines", self.line)
            else:
                yield from self._garbage()
            started = True

    def _garbage(self) -> Iterator[dict[str, Any]]:
        line, to = self.line, self.line_end()
        raw = self.take(to).decode("utf-8", "replace")
        # Skip on to the next line that starts a value, so one stray line costs one bad row.
        while True:
            self.skip_space()
            if self.pos >= self.end or self.buf[self.pos] in b"[{":
                break
            raw += "\n" + self.take(self.line_end()).decode("utf-8", "replace")
        yield self.row(line, error="not JSON: expected an array, an object or JSON Lines here",
                       reason="invalid_json", raw=raw[:1000])

    def _object(self) -> Iterator[dict[str, Any]]:
        line, start, eol = self.line, self.pos, self.line_end()
        chunk = self.buf[start:eol]
        try:
            value = orjson.loads(chunk)
        except orjson.JSONDecodeError:
            value = None
            end = exact_end(self.buf, start, self.end)
            if end is None or end <= eol:  # a bad JSON line: the line is the row
                self.take(eol)
                yield self.row(line, **diagnose(chunk, line))
                return
            chunk = self.take(end)
            found = decode(chunk, line)
        else:
            self.take(eol)
            found = checked(value, chunk, line)
        value = found.get("value")
        if isinstance(value, dict) and wrapped_key(value):
            yield from self._unwrap(chunk, line, wrapped_key(value))
            return
        yield self.row(line, **found)

    def _unwrap(self, chunk: bytes, line: int, key: str) -> Iterator[dict[str, Any]]:
        match = re.search(rb'"' + re.escape(key.encode()) + rb'"\s*:\s*\[', chunk)
        if match is None:  # cannot place the array: fall back to the elements without their lines
            value = orjson.loads(chunk)
            for element in value[key]:
                yield self.row(line, value=element)
            return
        inner = Scanner(self.path, chunk, match.end() - 1, line + chunk.count(b"\n", 0, match.end()))
        inner._last_line, inner._sub = self._last_line, self._sub
        yield from inner._array()
        self._last_line, self._sub = inner._last_line, inner._sub

    def _array(self) -> Iterator[dict[str, Any]]:
        """The elements of the array at `pos`; False when the file cannot be read past it."""
        open_line = self.line
        self.take(self.pos + 1)
        while True:
            self.skip_space()
            if self.pos >= self.end:
                yield self.row(open_line, error="invalid JSON: the array opened here is never closed",
                               reason="invalid_json", raw=None)
                return False
            first = self.buf[self.pos]
            if first == 0x5D:  # ]
                self.take(self.pos + 1)
                return True
            if first == 0x2C:  # a stray or trailing comma: nothing is lost by passing it
                self.take(self.pos + 1)
                continue
            line, start = self.line, self.pos
            end = self._element_end(first)
            if end is None:
                yield self.row(line, error="invalid JSON: this element is never closed", reason="invalid_json",
                               raw=self.buf[start:start + 1000].decode("utf-8", "replace"))
                return False
            chunk = self.take(end)
            yield self.row(line, **decode(chunk, line))
            self.skip_space()
            if self.pos < self.end and self.buf[self.pos] not in b",]":
                line, raw = self.line, self.buf[self.pos:self.line_end()][:1000].decode("utf-8", "replace")
                yield self.row(line, error="invalid JSON: expected ',' or ']' after an array element",
                               reason="invalid_json", raw=raw)
                return False

    def _element_end(self, first: int) -> int | None:
        buf, start = self.buf, self.pos
        if first == 0x7B:
            at = start
            for _ in range(_TRIES):
                match = _OBJECT_END.search(buf, at, self.end)
                if match is None:
                    break
                end = match.start() + 1
                try:
                    orjson.loads(buf[start:end])
                    return end
                except orjson.JSONDecodeError:
                    at = end
            return exact_end(buf, start, self.end)
        if first == 0x5B:
            return exact_end(buf, start, self.end)
        match = _SCALAR.match(buf, start, self.end)
        return match.end() if match else None


def exact_end(buf: Any, start: int, stop: int) -> int | None:
    """Where the object or array at `start` ends (just past its closing bracket), or None."""
    depth = 0
    for match in _TOKEN.finditer(buf, start, stop):
        token = match.group()
        if token[0] == 0x22:  # a string; a lone quote is a string never closed on its line
            if len(token) == 1:
                return None
            continue
        depth += 1 if token in (b"{", b"[") else -1
        if depth == 0:
            return match.end()
    return None


def decode(chunk: bytes, line: int) -> dict[str, Any]:
    """One value: {"value": ...} or {"error", "reason", "raw"}, with warnings for odd but valid JSON."""
    try:
        value = orjson.loads(chunk)
    except orjson.JSONDecodeError:
        return diagnose(chunk, line)
    return checked(value, chunk, line)


def checked(value: Any, chunk: bytes, line: int) -> dict[str, Any]:
    """Catch what orjson accepts but would change: integers too big for 64 bits, duplicate keys."""
    if _BIG_INT.search(chunk) and _has_big_int(chunk):
        return {"error": "an integer does not fit in 64 bits (it would lose digits); write it as a string",
                "reason": "number_out_of_range", "raw": _raw(chunk)}
    if isinstance(value, dict) and chunk.count(b'":') > _count_keys(value):
        duplicates = _duplicate_keys(chunk)
        if duplicates:
            return {"value": value, "warning": f"duplicate key {duplicates[0]!r} (the last value is kept)"}
    return {"value": value}


def diagnose(chunk: bytes, line: int) -> dict[str, Any]:
    """A bad row for a value orjson refused, saying what is wrong in the user's terms."""
    raw = _raw(chunk)
    try:
        orjson.loads(chunk)
    except orjson.JSONDecodeError as exc:
        message = str(exc.args[0] if exc.args else exc)
    if _NON_FINITE.search(chunk):
        try:
            json.loads(chunk)
            return {"error": "NaN or Infinity is not JSON (it would become null); write null or a number",
                    "reason": "non_finite_number", "raw": raw}
        except (ValueError, RecursionError):
            pass
    if "not valid UTF-8" in message or "surrogate" in message:
        return {"error": f"invalid text: {message.split(':')[0]} (a lone surrogate cannot be written as UTF-8)",
                "reason": "invalid_json", "raw": raw}
    if "depth limit" in message or "recursion" in message:
        return {"error": "nested deeper than 1024 levels", "reason": "too_deep", "raw": raw[:200]}
    head, sep, tail = message.rpartition(": line ")
    if sep:
        inner, _, column = tail.partition(" column ")
        if inner.isdigit() and int(inner) > 1:
            message = f"{head} (line {line + int(inner) - 1})"
        else:
            message = f"{head} (column {column.split(' ')[0]})"
    return {"error": f"invalid JSON: {message}", "reason": "invalid_json", "raw": raw}


def wrapped_key(value: dict[str, Any]) -> str | None:
    """The key of a wrapper object's records: `{"version": 1, "data": [{...}, ...]}` -> "data".

    >>> wrapped_key({"version": 1, "data": [{"a": 1}]}), wrapped_key({"instruction": "x", "data": [{}]})
    ('data', None)
    """
    lists = [k for k, v in value.items() if isinstance(v, (list, dict))]
    if len(lists) != 1 or lists[0] not in WRAPPER_KEYS:
        return None
    records = value[lists[0]]
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        return None
    if any(k in value for k in ("instruction", "output", "conversations", "messages", "question", "prompt")):
        return None
    return lists[0]


def warn(path: str, line: int, message: str) -> None:
    log.warning("%s:%d: %s", path, line, message)


def _raw(chunk: bytes) -> str:
    return chunk[:1000].decode("utf-8", "replace")


def _count_keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_count_keys(v) for v in value.values() if isinstance(v, (dict, list)))
    if isinstance(value, list):
        return sum(_count_keys(v) for v in value if isinstance(v, (dict, list)))
    return 0


def _duplicate_keys(chunk: bytes) -> list[str]:
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    try:
        json.loads(chunk, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return []
    return found


def _has_big_int(chunk: bytes) -> bool:
    found = False

    def parse_int(text: str) -> int:
        nonlocal found
        number = int(text)
        if not -(2**63) <= number < 2**64:
            found = True
        return number

    try:
        json.loads(chunk, parse_int=parse_int)
    except (ValueError, RecursionError):
        return False
    return found
