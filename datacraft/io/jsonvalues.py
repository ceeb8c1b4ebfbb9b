"""Single JSON values as the readers check them: what orjson refuses, said in the user's terms, and
what it accepts but would change (integers past 64 bits, duplicate keys)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import orjson

log = logging.getLogger("datacraft.io")
_NON_FINITE = re.compile(rb"(?<![\w\"])-?(?:NaN|Infinity)(?![\w\"])")
MAX_DEPTH = 200  # orjson writes at most 254 levels; rejects and meta wrap a record in a few more
_BIG_INT = re.compile(rb"(?<![\w.\"])-?\d{20,}(?![\w.])")


def decode(chunk: bytes, line: int) -> dict[str, Any]:
    """One value: {"value": ...} or {"error", "reason", "raw"}, with warnings for odd but valid JSON."""
    try:
        value = orjson.loads(chunk)
    except orjson.JSONDecodeError:
        return diagnose(chunk, line)
    return checked(value, chunk, line)


def checked(value: Any, chunk: bytes, line: int) -> dict[str, Any]:
    """Catch what orjson accepts but would change: integers too big for 64 bits, duplicate keys."""
    if type(value) is dict and FLAT.issuperset(map(type, value.values())):
        keys, floats, depth = len(value), False, 1  # the common record: text values only
    else:
        keys, floats, depth = _shape(value)
    if depth > MAX_DEPTH:
        return {"error": f"nested {depth} levels deep; datacraft writes at most {MAX_DEPTH} (orjson's limit is 254)",
                "reason": "too_deep", "raw": _raw(chunk)[:200]}
    # orjson reads an integer past 64 bits as a float of magnitude >= 2^63 (`floats` says one occurs):
    # only then is the (slow: ~40 µs a line) digit check needed; a 0.7 in `meta` no longer triggers it.
    if floats and _BIG_INT.search(chunk) and _has_big_int(chunk):
        return {"error": "an integer does not fit in 64 bits (it would lose digits); write it as a string",
                "reason": "number_out_of_range", "raw": _raw(chunk)}
    if keys and chunk.count(b'":') > keys:
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
        return {"error": f"nested deeper than 1024 levels; datacraft writes at most {MAX_DEPTH}", "reason": "too_deep",
                "raw": raw[:200]}
    head, sep, tail = message.rpartition(": line ")
    if sep:
        inner, _, column = tail.partition(" column ")
        if inner.isdigit() and int(inner) > 1:
            message = f"{head} (line {line + int(inner) - 1})"
        else:
            message = f"{head} (column {column.split(' ')[0]})"
    return {"error": f"invalid JSON: {message}", "reason": "invalid_json", "raw": raw}


def warn(path: str, line: int, message: str) -> None:
    log.warning("%s:%d: %s", path, line, message)


def _raw(chunk: bytes) -> str:
    return chunk[:1000].decode("utf-8", "replace")


FLAT = frozenset({str, int, bool, type(None)})


_INT_RANGE = 2.0 ** 63  # orjson reads integers in [-2^63, 2^64) as int, others as floats at least this large


def _shape(value: Any) -> tuple[int, bool, int]:
    """(keys in every object, whether a float that may be an integer past 64 bits occurs, nesting depth)."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return 0, kind is float and abs(value) >= _INT_RANGE, 0
    keys, floats, deepest = 0, False, 0
    stack = [(value, 1)]  # containers only: a scalar is looked at where it is found
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if type(item) is dict:
            keys += len(item)
            children = item.values()
        else:
            children = item
        if FLAT.issuperset(map(type, children)):
            continue  # strings, ints, booleans, nulls only (a C-level test): nothing below
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is float and abs(child) >= _INT_RANGE:
                floats = True
    return keys, floats, deepest


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
