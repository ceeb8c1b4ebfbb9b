"""Text normalisation for dedupe: NFKC, casefold, punctuation and whitespace made separators.

`normalize` is the reference (per string, Python). `normalize_batch` gives the same result for a
whole batch as one numpy array of code points: a table lookup per character (casefold, non-word
characters to spaces). Texts holding a character the table cannot handle alone (one that NFKC
changes or composes, a multi-character casefold, anything beyond the BMP) are normalised by the
reference instead, so both paths agree exactly, up to how many spaces separate two words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import xxhash

from datacraft.records import Record

FIELD_SEP = "\x00"  # joins fields: survives normalisation, so "a|bc" and "ab|c" differ in the exact key
_NON_WORD = re.compile(r"[^\w\x00]+")  # \w keeps "_": it is made a space afterwards
_SPACE = 32


def field_text(record: Record, fields: Sequence[str]) -> str:
    """The compared text of a record: its fields joined by FIELD_SEP (lists flattened, None empty).

    >>> field_text({"instruction": "Hi", "output": "Hello"}, ("instruction", "input", "output"))
    'Hi\\x00\\x00Hello'
    """
    try:
        return FIELD_SEP.join([record.get(f, "") for f in fields])
    except TypeError:  # None, lists (history), numbers
        return FIELD_SEP.join(_as_text(record.get(f)) for f in fields)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return FIELD_SEP.join(_as_text(v) for v in value)
    return str(value)


def normalize(text: str) -> str:
    """Punctuation, symbols and whitespace made spaces, then NFKC and casefold (FIELD_SEP is kept).

    Punctuation goes first: full-width CJK punctuation is what makes NFKC slow.

    >>> normalize("Ｈｅｌｌｏ,  World!"), normalize("你好，世界。"), normalize("snake_case")
    ('hello world ', '你好 世界 ', 'snake case')
    """
    norm = _NON_WORD.sub(" ", text)
    nfkc = unicodedata.normalize("NFKC", norm)
    if nfkc is not norm:  # compatibility characters may decompose into punctuation ("½" -> "1⁄2")
        norm = _NON_WORD.sub(" ", nfkc)
    return norm.casefold().replace("_", " ")


def exact_key(norm: str) -> int:
    """128-bit xxh3 of normalised text without its spaces: equal keys = exact duplicates.

    >>> exact_key(normalize("Hello, world")) == exact_key(normalize("hello   WORLD!"))
    True
    """
    return xxhash.xxh3_128_intdigest(norm.replace(" ", "").encode("utf-32-le"))


@cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per BMP code point: its normalised form (space for non-word), and whether the table is not enough."""
    chars = [chr(cp) for cp in range(0xD800)] + ["?"] * 0x800 + [chr(cp) for cp in range(0xE000, 0x10000)]
    chars[1] = "?"  # \x01 separates the characters below, and is not a word character anyway
    joined = "\x01".join(chars)  # one C-level call per property instead of 65536 Python calls
    folded = joined.casefold().split("\x01")
    nfkc = unicodedata.normalize("NFKC", joined).split("\x01")
    word = np.zeros(0x10000, bool)
    word[[m.start() // 2 for m in re.finditer(r"[^\W_]", joined)]] = True
    single = np.fromiter(map(len, folded), np.int64, 0x10000) == 1
    stable = np.fromiter(map(str.__eq__, nfkc, chars), bool, 0x10000)
    starter = np.fromiter(map(unicodedata.combining, chars), np.int64, 0x10000) == 0
    defer = word & ~(single & stable & starter)
    simple = "".join(f if len(f) == 1 else " " for f in folded)
    fold = np.where(word & ~defer, np.frombuffer(simple.encode("utf-32-le", "surrogatepass"), np.uint32), _SPACE)
    fold = fold.astype(np.uint32)
    fold[0] = 0  # FIELD_SEP
    defer[0x1100:0x1200] = True  # conjoining Hangul jamo compose under NFKC
    defer[0xA960:0xA980] = True
    defer[0xD7B0:0xE000] = True  # more jamo, and lone surrogates
    # every code point, so one lookup needs no clipping; beyond the BMP the reference decides
    defer_all = np.ones(0x110000, bool)
    defer_all[:0x10000] = defer
    return fold, defer_all, fold[:128].astype(np.uint8)


def normalize_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised code points of " " + texts joined by " " + " ", and each text's start offset.

    uint8 when every text is ASCII, else uint32. Only word characters, spaces and FIELD_SEP remain.
    """
    fold, defer, fold_ascii = _tables()
    joined = " " + " ".join(texts) + " "
    if joined.isascii():
        return fold_ascii[np.frombuffer(joined.encode("ascii"), np.uint8)], _starts(texts)
    c = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    deferred = np.flatnonzero(defer[c])
    if not len(deferred):
        return fold[c], _starts(texts)
    starts = _starts(texts)
    slow = np.unique(np.searchsorted(starts, deferred, side="right") - 1).tolist()
    texts = list(texts)
    for i in slow:
        texts[i] = normalize(texts[i])
    starts = _starts(texts)
    c = np.frombuffer((" " + " ".join(texts) + " ").encode("utf-32-le", "surrogatepass"), np.uint32)
    out = fold[np.minimum(c, 0xFFFF)]
    for i in slow:  # already normalised: copy as is
        out[starts[i]:starts[i + 1] - 1] = c[starts[i]:starts[i + 1] - 1]
    return out, starts


def _starts(texts: Sequence[str]) -> np.ndarray:
    """Offsets of each text in " " + " ".join(texts) + " " (one past the end for the last)."""
    starts = np.ones(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(s) + 1 for s in texts), np.int64, len(texts)), out=starts[1:])
    starts[1:] += 1
    return starts


def exact_keys(texts: Sequence[str]) -> list[int | None]:
    """`exact_key(normalize(t))` for each text, computed for the whole batch at once.

    None for a text with no word characters at all: there is nothing to compare.
    """
    ascii_rows = [i for i, t in enumerate(texts) if t.isascii()]  # O(1) per str
    if not ascii_rows or len(ascii_rows) == len(texts):
        return _exact_keys(texts)
    keys: list[int | None] = [None] * len(texts)
    other_rows = [i for i, t in enumerate(texts) if not t.isascii()]
    for rows in (ascii_rows, other_rows):  # ASCII texts: one byte per character until the hash
        for i, key in zip(rows, _exact_keys([texts[i] for i in rows]), strict=True):
            keys[i] = key
    return keys


def _exact_keys(texts: Sequence[str]) -> list[int | None]:
    if not texts:
        return []
    c, starts = normalize_batch(texts)
    keep = c != _SPACE
    kept = c[keep].astype(np.uint32, copy=False)  # the key hashes UTF-32, like exact_key
    per_text = np.add.reduceat(keep, starts[:-1], dtype=np.int64)
    bounds = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(per_text * 4, out=bounds[1:])
    view = memoryview(kept).cast("B")
    digest = xxhash.xxh3_128_intdigest
    edges = bounds.tolist()
    has_words = np.add.reduceat(c > _SPACE, starts[:-1]).tolist()
    return [digest(view[a:b]) if words else None
            for a, b, words in zip(edges[:-1], edges[1:], has_words, strict=True)]
