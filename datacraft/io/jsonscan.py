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

import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from datacraft.errors import InputError
from datacraft.io.jsonvalues import FLAT, checked, decode, diagnose

_OBJECT_END = re.compile(rb"\}[ \t\r\n]*(?=[,\]])")
_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|[\[\]{}]|"')
_SCALAR = re.compile(rb'"(?:[^"\\\n]|\\.)*"|[^,\] \t\r\n]+')
_SPACE = b" \t\r\n"
_GAP = re.compile(rb"[ \t\r\n]*(?:(,)[ \t\r\n]*)?")  # between elements: space, at most one comma
_TRIES = 8  # candidate ends tried before the exact tokenizer takes over
_BLOCK = 2048  # elements of a pretty-printed array parsed by one orjson call
_WINDOW = 32 << 20  # bytes searched for their starts at a time
_MINIFIED_START = re.compile(rb"\}[ \t]*,[ \t]*\{")
# Keys that hold the records in a wrapper object; other members must be plain values (version...).
WRAPPER_KEYS = ("data", "rows", "records", "examples", "items", "samples", "train")


class Scanner:
    """Walks a UTF-8 buffer (bytes or mmap) from `pos`, counting lines as it goes."""

    def __init__(self, path: str, buf: Any, pos: int = 0, line: int = 1, end: int | None = None,
                 factory: Callable[..., Any] | None = None):
        self.path, self.buf, self.pos, self.line = path, buf, pos, line
        # factory(path, line, value, error, reason, raw, sub, warning) makes a row; the reader passes its Row.
        self.factory = factory or _row_dict
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
    def row(self, line: int, value: Any = None, error: str | None = None, reason: str | None = None,
            raw: str | None = None, warning: str | None = None) -> Any:
        # Records that start on one line (a minified array) get a sub-number, so ids stay unique.
        if line == self._last_line:
            self._sub += 1
        else:
            self._last_line, self._sub = line, 0
        return self.factory(self.path, line, value, error, reason, raw, self._sub, warning)

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
        inner = Scanner(self.path, chunk, match.end() - 1, line + chunk.count(b"\n", 0, match.end()),
                        factory=self.factory)
        inner._last_line, inner._sub = self._last_line, self._sub
        yield from inner._array()
        self._last_line, self._sub = inner._last_line, inner._sub

    def _array(self) -> Iterator[dict[str, Any]]:
        """The elements of the array at `pos`; False when the file cannot be read past it."""
        open_line = self.line
        self.take(self.pos + 1)
        buf, stop = self.buf, self.end
        # The loop keeps its position in locals (this is the hot path) and hands it back before each yield.
        pos, line = self.pos, self.line
        fast_tried = False
        while True:
            gap = _GAP.match(buf, pos, stop).end()
            if gap != pos:
                line += buf[pos:gap].count(b"\n")
                pos = gap
            if pos >= stop:
                self.pos, self.line = pos, line
                yield self.row(open_line, error="invalid JSON: the array opened here is never closed",
                               reason="invalid_json", raw=None)
                return False
            first = buf[pos]
            if first == 0x5D:  # ]
                self.pos, self.line = pos + 1, line
                return True
            if first == 0x2C:  # a stray or trailing comma: nothing is lost by passing it
                pos += 1
                continue
            if first == 0x7B and not fast_tried:
                fast_tried = True
                self.pos, self.line = pos, line
                yield from self._indented_run()
                if self.pos != pos:
                    pos, line, fast_tried = self.pos, self.line, False
                    continue
            found, newlines, end = self._element(first, pos)
            if end is None:
                self.pos, self.line = pos, line
                yield self.row(line, error="invalid JSON: this element is never closed", reason="invalid_json",
                               raw=buf[pos:pos + 1000].decode("utf-8", "replace"))
                return False
            self.pos, self.line = end, line + newlines
            yield self.row(line, **found)
            pos, line = self.pos, self.line
            after = _GAP.match(buf, pos, stop)
            if after.group(1) is None and after.end() < stop and buf[after.end()] != 0x5D:
                line += buf[pos:after.end()].count(b"\n")
                self.pos, self.line = after.end(), line
                raw = buf[self.pos:self.line_end()][:1000].decode("utf-8", "replace")
                yield self.row(line, error="invalid JSON: expected ',' or ']' after an array element",
                               reason="invalid_json", raw=raw)
                return False

    def _indented_run(self) -> Iterator[Any]:
        """Arrays of objects in blocks of up to _BLOCK elements, each block parsed by one orjson call.

        Pretty-printed arrays (`json.dump(..., indent=2)`): every element starts a line at one indent,
        and a string cannot hold a raw newline, so those line starts are the element starts. Minified
        arrays: `},{` marks them (a string may hold it too, which the count check catches). A block is
        accepted only when it parses into exactly as many elements as starts were found; anything
        else leaves `pos` where it was, for the element-by-element path.
        """
        buf, start = self.buf, self.pos
        line_start = buf.rfind(b"\n", 0, start) + 1
        indent = buf[line_start:start]
        if indent.strip(b" \t") or start == line_start == 0:
            element_start, shift = _MINIFIED_START, 1  # the `{` after "},"
        else:
            # The comma keeps out an object nested at the same indent after a key or a bracket.
            element_start, shift = re.compile(rb",[ \t\r]*\n" + re.escape(indent) + rb"\{"), 1
        while True:
            starts = [start]
            for match in element_start.finditer(buf, start + 1, min(self.end, start + _WINDOW)):
                starts.append(match.end() - shift)
                if len(starts) > _BLOCK:
                    break
            if len(starts) < 3:
                return
            block = buf[start:starts[-1]]
            body = block.rstrip(b" \t\r\n")
            if not body.endswith(b","):
                return
            try:
                values = orjson.loads(b"[" + body[:-1] + b"]")
            except orjson.JSONDecodeError:
                return
            if len(values) != len(starts) - 1:
                return
            line, make, path, flat = self.line, self.factory, self.path, FLAT.issuperset
            # More `":` than keys somewhere in the block: look for duplicate keys element by element.
            suspect = not all(type(v) is dict for v in values) or block.count(b'":') > sum(map(len, values))
            offsets = [x - start for x in starts]
            indented = element_start is not _MINIFIED_START
            one_line = b"\n" not in block  # a minified array: every element on this line, numbered
            sub = self._sub + 1 if line == self._last_line and not indented else 0
            for value, a, b in zip(values, offsets, offsets[1:], strict=False):
                if type(value) is not dict or not flat(map(type, value.values())) or \
                        (suspect and block.count(b'":', a, b) > len(value)):
                    found = checked(value, block[a:b].rstrip(b" \t\r\n,"), line)
                    yield make(path, line, found.get("value"), found.get("error"), found.get("reason"),
                               found.get("raw"), sub, found.get("warning"))
                else:
                    yield make(path, line, value, None, None, None, sub, None)
                if one_line:
                    sub += 1
                    continue
                self._last_line, self._sub = line, sub
                line += block.count(b"\n", a, b)
                # An indented element starts a line of its own (after ",\n"); a `},{` one may share it.
                sub = sub + 1 if (line == self._last_line and not indented) else 0
            if one_line:
                self._last_line, self._sub = line, sub - 1
            self.pos, self.line = starts[-1], line
            start = starts[-1]

    def _element(self, first: int, start: int) -> tuple[dict[str, Any], int, int | None]:
        """The element at `start`, decoded, and where it ends (None: it never does)."""
        buf, stop = self.buf, self.end
        line = self.line
        if first == 0x7B:
            at = start
            for _ in range(_TRIES):
                match = _OBJECT_END.search(buf, at, stop)
                if match is None:
                    break
                end = match.start() + 1
                chunk = buf[start:end]
                try:
                    value = orjson.loads(chunk)
                except orjson.JSONDecodeError:
                    at = end
                    continue
                return checked(value, chunk, line), chunk.count(b"\n"), end
            end = exact_end(buf, start, stop)
        elif first == 0x5B:
            end = exact_end(buf, start, stop)
        else:
            match = _SCALAR.match(buf, start, stop)
            end = match.end() if match else None
        if end is None:
            return {}, 0, None
        chunk = buf[start:end]
        return decode(chunk, line), chunk.count(b"\n"), end


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


def _row_dict(path: str, line: int, value: Any, error: str | None, reason: str | None, raw: str | None,
              sub: int, warning: str | None) -> dict[str, Any]:
    return {"path": path, "line": line, "value": value, "error": error, "reason": reason, "raw": raw,
            "sub": sub, "warning": warning}
