"""validate's fast path: msgspec's typed decode of JSON Lines records, a block of lines at a time.

Validating a file that is fine (the usual case before training) costs reading it: orjson builds a
dict per line, the reader checks it for what orjson would change, the checker walks it. Here a
msgspec `Struct` that says what schemas/alpaca.schema.json says decodes a block of lines instead,
in one C pass with no dict built. A record it accepts, with no whitespace-only text, no key twice
(the block's colons against its keys and the colons in its text) and a `meta` that is flat with
64-bit ints (else the reader's checks apply), is a valid record with nothing to report:
`datacraft validate` would print nothing for it.

A block that is not clear so (a decode or schema error, a blank or BOM line, a nested `meta`, a
duplicate key) is checked line by line the same way, and only the lines still not clear go to the
reader and the checker (`unclear_lines`), so every message, line number, warning and verdict
comes from the one full path.
"""

import io
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, repeat
from typing import Annotated, Any

try:
    import msgspec
except ImportError:  # optional: without it validate takes the full path
    msgspec = None

_INT_RANGE = (-(2**63), 2**63 - 1)  # int64: orjson reads up to 2**64 - 1, larger ones go to the full path
_BLOCK = 1 << 16  # decoded at once: its structs and strings stay in cache until freed
_SNIFF = 1 << 20  # what the reader looks at to detect the encoding
# Lines checked together in a block that is not clear: one call per line costs more than the
# reader saves when a third of the lines are invalid, and a few lines are mostly clear when few are.
_PIECE = 8


def _alpaca_struct() -> Any:
    # no `from __future__ import annotations` here: msgspec reads these annotations as live types
    text = Annotated[str, msgspec.Meta(min_length=1)]  # and "\S" (not all whitespace): isspace() in _block
    optional = str | None | msgspec.UnsetType
    unset = msgspec.UNSET
    lo, hi = _INT_RANGE  # meta's ints (past 64 bits the reader rejects the line)

    # gc=False: a block's thousand structs are never in a cycle, and tracking them costs a fifth of the decode
    class Alpaca(msgspec.Struct, forbid_unknown_fields=True, gc=False):
        instruction: text
        output: text
        input: optional = unset
        system: optional = unset
        tools: optional = unset
        history: list[tuple[str, str]] | None | msgspec.UnsetType = unset
        id: Annotated[str, msgspec.Meta(min_length=1)] | msgspec.UnsetType = unset
        meta: dict[str, str | Annotated[int, msgspec.Meta(ge=lo, le=hi)] | bool | None] | msgspec.UnsetType = unset

    return Alpaca


_STRUCTS = {"alpaca": _alpaca_struct} if msgspec is not None else {}
_decoders: dict[str, Any] = {}


def supported(schema: str) -> bool:
    """Whether `schema` (a bundled name) has a fast path here."""
    return schema in _STRUCTS


def count_valid(path: str, schema: str) -> "int | None":
    """The number of records in JSON Lines file `path` when every one is valid with nothing to report, else None."""
    records = [0]
    for _ in unclear_lines(path, schema, lambda n: records.__setitem__(0, records[0] + n)):
        return None
    return records[0] or None


def unclear_lines(path: str, schema: str, cleared: Callable[[int], None]) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line of JSON Lines file `path` that the fast check does not clear.

    `cleared(n)` is told of the records it clears (valid, nothing to report), block by block. The
    lines it yields are for the reader and the checker, which say what is wrong with them.
    """
    decoder = _decoders.get(schema)
    if decoder is None:
        decoder = _decoders[schema] = msgspec.json.Decoder(_STRUCTS[schema]())
    line: int | None = None  # lines before the block; counted from the first block that is not clear
    skip = 0  # blocks that are not clear to pass to the reader whole, before trying pieces again
    start = 0  # the block's offset in the file
    buf = bytearray(_BLOCK)  # reused: fresh buffers per read cost page faults
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as handle:
        kept = 0  # bytes of a partial last line carried over to the front of buf
        while True:
            if kept == len(buf):  # one line longer than the buffer: grow it
                view.release()
                buf.extend(bytes(len(buf)))
                view = memoryview(buf)
            got = handle.readinto(view[kept:])
            end = kept + got
            if not got:
                cut = end
            else:
                cut = buf.rfind(b"\n", 0, end) + 1
                if not cut:
                    kept = end
                    continue
            if cut:
                found = _block(decoder, view[:cut], buf, cut, _count(buf, cut, b":"))
                if found is not None:
                    cleared(found)
                    if line is not None:
                        line += _count(buf, cut, b"\n")
                else:
                    if line is None:
                        line = _newlines(path, start)
                    lines = list(io.BytesIO(view[:cut]))  # split after each b"\n" only, as the reader does
                    # Pieces of the block, while they pay: where most fail (many invalid records), a
                    # failed decode costs more than the reader saves, so then only every 16th block tries.
                    if skip:
                        skip -= 1
                        yield from enumerate(lines, start=line + 1)
                    else:
                        clear = 0
                        for at in range(0, len(lines), _PIECE):
                            piece = b"".join(lines[at: at + _PIECE])
                            found = _block(decoder, piece, piece, len(piece),
                                           len(piece) - len(piece.replace(b":", b"")))
                            if found is None:
                                yield from enumerate(lines[at: at + _PIECE], start=line + at + 1)
                            else:
                                cleared(found)
                                clear += min(_PIECE, len(lines) - at)
                        skip = 0 if 2 * clear >= len(lines) else 15
                    line += len(lines)
                start += cut
            if not got:
                break
            buf[: end - cut] = view[cut:end]
            kept = end - cut


def _count(buf: bytearray, cut: int, byte: bytes) -> int:
    """How often `byte` occurs in buf[:cut]: bytearray.replace finds it with memchr, 3x faster than count."""
    return len(buf) - len(buf.replace(byte, b"")) - buf.count(byte, cut)


def _newlines(path: str, size: int) -> int:
    """The newlines in the first `size` bytes of `path` (read again only when a file needs line numbers)."""
    lines = 0
    with open(path, "rb") as handle:
        while size > 0:
            chunk = handle.read(min(size, 1 << 20))
            if not chunk:
                break
            lines += len(chunk) - len(chunk.replace(b"\n", b""))
            size -= len(chunk)
    return lines


def _block(decoder: Any, block: Any, buf: Any, cut: int, colons: int) -> "int | None":
    """Records in `block`, whole lines that are buf[:cut] and hold `colons`, when all are valid and plain, else None.

    Plain: as the module docstring says.
    """
    try:
        recs = decoder.decode_lines(block)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # including a BOM: the full path says what to do
    # The block's fields as columns: one astuple per record, transposed in C (a getattr per field and
    # record costs twice as much).
    cols = list(zip(*map(msgspec.structs.astuple, recs), strict=True))
    if not cols:
        return 0  # blank lines only
    isspace, unset = str.isspace, msgspec.UNSET
    if any(map(isspace, cols[0])) or any(map(isspace, cols[1])):
        return None
    metas = [meta for meta in cols[-1] if meta]
    keys = len(cols) * len(recs) - sum([col.count(unset) for col in cols[2:]]) + sum(map(len, metas))
    # Every key is followed by a colon, and a colon outside a string is always after a key. So the
    # block's colons = its keys (a duplicate counted twice) + the colons inside its strings; with
    # as many colons as the keys decoded plus the colons in the strings decoded, no key came twice
    # (the reader warns about that).
    if colons == keys:
        return len(recs)
    if buf.find(b"\\", 0, cut) >= 0 and buf.find(b"\\u003", 0, cut) >= 0:
        return None  # perhaps a colon written as \u003a, which the text does not show
    inside = 0
    for strings in _strings(cols, metas):
        inside += sum(map(str.count, strings, repeat(":")))
        if colons <= keys + inside:  # most colons in text are in one field (ids, URLs): look there first
            break
    return len(recs) if colons == keys + inside else None


def _strings(cols: list[tuple[Any, ...]], metas: list[dict[str, Any]]) -> Iterator[Iterable[str]]:
    """The block's strings, a field at a time, short and colon-prone fields first."""
    instruction, output, input_, system, tools, history, ids, _ = cols
    yield [s for s in ids if s]
    yield instruction
    yield [s for col in (input_, system, tools) for s in col if s]
    yield chain.from_iterable(chain.from_iterable(pairs for pairs in history if pairs))
    yield chain.from_iterable(metas)
    yield [v for meta in metas for v in meta.values() if v.__class__ is str]
    yield output


def usable(path: str, options: dict[str, Any]) -> bool:
    """Whether `path` and the read options allow the fast path (a plain UTF-8 .jsonl file, no mapping)."""
    if msgspec is None or path == "-" or any(options.get(k) for k in ("mapping", "encoding", "split")):
        return False
    if options.get("fmt") not in (None, "jsonl") or not path.lower().endswith((".jsonl", ".ndjson")):
        return False
    if not os.path.isfile(path):
        return False
    from datacraft.io.encoding import detect_encoding

    with open(path, "rb") as handle:
        return detect_encoding(handle.read(_SNIFF)) in ("utf-8", "ascii")
