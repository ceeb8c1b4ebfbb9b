"""Text normalisation for dedupe: NFKC, casefold, Traditional to Simplified, punctuation made separators.

The normalised text is a comparison key only; records are never rewritten. What it keeps and drops:

- kept: word characters, and symbols that carry meaning in math and code: every math symbol
  (Unicode Sm: `+ < = > | ~ ± × ≠ ∑` ...) and `- * / \\ ^ % & @ $`; `.` between two digits
  (`3.14` is not `314`) and `!` before `=` (`a != b` is not `a = b`). Unicode minus and the hyphen
  and en dashes become `-`. Full-width forms of these symbols (`＋ ～ ％`) are separators like
  full-width punctuation: keeping them would send every Chinese text holding a `～` down the slow
  exact path (measured: 2x the CPU time on a Chinese chat set).
- dropped (made spaces): other punctuation (`, . ; : ? ! ' " ( ) [ ]` and their full-width forms,
  em dashes, quotes), Markdown list and quote markers at the start of a line (`- `, `* `, `+ `, `> `)
  and `**` emphasis.
- Traditional Chinese characters are mapped to Simplified (OpenCC's character table, one character
  for one), so a zh-Hant copy of a zh-Hans record has the same key.

`normalize` is the reference (per string, Python). `normalize_batch` gives the same result for a
whole batch as one numpy array of code points: a table lookup per character (casefold, t2s,
non-word characters to spaces) and a few neighbour checks for the context rules above. Texts
holding a character the table cannot handle alone (one that NFKC changes or composes, a
multi-character casefold, anything beyond the BMP) are normalised by the reference instead, so
both paths agree exactly, up to how many spaces separate two words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from datacraft.records import Record, compare_text

FIELD_SEP = "\x00"  # joins fields: survives normalisation, so "a|bc" and "ab|c" differ in the exact key
SYMBOLS = "-*/\\^%&@$"  # kept besides Unicode Sm (math symbols); `.` and `!` are kept in context only
DASHES = "\u2010\u2011\u2012\u2013\u2212"  # hyphens, figure and en dash, minus sign: all become "-"
_MARKER = re.compile(r"(?m)^[-*+>](?=[ \t])|\*\*+")  # Markdown list/quote markers, emphasis
_SPACE = 32


@cache
def _kept_class() -> str:
    """A regex character class body of the kept symbols (Sm, SYMBOLS, DASHES)."""
    chars = [chr(cp) for cp in range(0x20000) if not 0xD800 <= cp < 0xE000]
    # only characters NFKC leaves alone: full-width forms ("＋", "～", common in Chinese text) would send
    # every text holding one down the slow exact path; they stay separators, like full-width punctuation
    base = {ch for ch in chars if (unicodedata.category(ch) == "Sm" or ch in SYMBOLS or ch in DASHES)
            and unicodedata.normalize("NFKC", ch) == ch}
    return "".join(re.escape(ch) for ch in sorted(base))


@cache
def _non_word() -> re.Pattern[str]:
    # \w keeps "_": it is made a space afterwards; "." and "!" are left to _LONE
    return re.compile(r"[^\w\x00.!" + _kept_class() + "]+")


_LONE = re.compile(r"\.(?:(?<![0-9]\.)|(?![0-9]))|!(?!=)")  # "." not between digits, "!" not before "="


@cache
def t2s_table() -> dict[int, int]:
    """Traditional -> Simplified, one character for one (OpenCC's character tables), and DASHES -> "-"."""
    import opencc  # only its dictionary files: a character table is 40x faster than its converter

    folder = Path(opencc.__file__).parent / "dictionary"
    table = {c: "-" for c in DASHES}

    def pairs(name: str):
        for line in (folder / f"{name}.txt").read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            yield source, [t for t in targets.split() if len(t) == 1 and t != source]

    for source, targets in pairs("TSCharacters"):
        if len(source) == 1 and targets:
            table[source] = targets[0]
    # and back along every s2t choice, so that t2s(s2t(text)) == text on the key ("了" -> "瞭" -> "了")
    for source, targets in pairs("STCharacters"):
        for target in targets if len(source) == 1 else ():
            table.setdefault(target, source)
    return {ord(k): ord(v) for k, v in table.items()}


def answer_last_text(record: Record, fields: Sequence[str]) -> str:
    """`compare_text` with the answer (`output`, a chat's last reply) as the last FIELD_SEP segment.

    The near stage tags shingles of the last segment as the answer (`shingle_hashes(tag_answer=True)`);
    an empty answer leaves an empty last segment. Without `output` in `fields` it is `compare_text`.

    >>> answer_last_text({"instruction": "Hi", "output": "Hello", "system": "Be brief"}, ("instruction", "output", "system"))
    'Hi\\x00Be brief\\x00Hello'
    """
    rest = _without_output(tuple(fields))
    if rest is None:
        return compare_text(record, tuple(fields))
    answer = record.get("output")
    if not isinstance(answer, str) or "conversations" in record or "messages" in record:
        answer = compare_text(record, ("output",))  # chats: the last reply, through the record model
    return compare_text(record, rest) + FIELD_SEP + answer


@cache
def _without_output(fields: tuple[str, ...]) -> tuple[str, ...] | None:
    return tuple(f for f in fields if f != "output") if "output" in fields else None


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
    """Punctuation and whitespace made spaces (meaningful symbols kept), then NFKC, casefold and t2s.

    Punctuation goes first: full-width CJK punctuation is what makes NFKC slow.

    >>> normalize("Ｈｅｌｌｏ,  World!"), normalize("你好，世界。"), normalize("snake_case")
    ('hello world ', '你好 世界 ', 'snake case')
    >>> normalize("x^2-1 != 3.5"), normalize("這個軟體"), normalize("- **Note**: a<b")
    ('x^2-1 != 3.5', '这个软体', ' note a<b')
    """
    return _folded(text).translate(t2s_table())


def _folded(text: str) -> str:
    """`normalize` short of the t2s mapping (normalize_batch applies that as an array lookup)."""
    norm = _strip(text)
    nfkc = unicodedata.normalize("NFKC", norm)
    if nfkc is not norm:  # compatibility characters may decompose into punctuation ("½" -> "1⁄2")
        norm = _strip(nfkc)
    return norm.casefold().replace("_", " ")


@cache
def _t2s_array() -> np.ndarray:
    """t2s_table as a lookup array over every code point."""
    table = np.arange(0x110000, dtype=np.uint32)
    mapping = t2s_table()
    table[np.fromiter(mapping.keys(), np.int64)] = np.fromiter(mapping.values(), np.uint32)
    return table


def _strip(text: str) -> str:
    return _LONE.sub(" ", _non_word().sub(" ", _MARKER.sub(" ", text)))


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
    kept = np.zeros(0x10000, bool)
    kept[[m.start() // 2 for m in re.finditer("[" + _kept_class() + "]", joined)]] = True
    word |= kept
    single = np.fromiter(map(len, folded), np.int64, 0x10000) == 1
    stable = np.fromiter(map(str.__eq__, nfkc, chars), bool, 0x10000)
    starter = np.fromiter(map(unicodedata.combining, chars), np.int64, 0x10000) == 0
    defer = word & ~(single & stable & starter)
    simple = "".join(f if len(f) == 1 else " " for f in folded).translate(t2s_table())
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


_SPECIAL = np.zeros(0x110000, bool)
_SPECIAL[[ord(ch) for ch in ".!*-+>"]] = True  # the characters a context rule may change


def _context(c: np.ndarray, out: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Apply the rules the table cannot (`.` between digits, `!=`, Markdown markers) to `out`, in place.

    `c` is the joined input (" " + texts joined by " " + " "), `out` its table lookup. One pass finds
    the few characters concerned; the rules then look at their neighbours only.
    """
    p = np.flatnonzero(_SPECIAL[c])
    if not len(p):
        return out
    p = p[(p > 0) & (p < len(c) - 1)]  # c[0] and c[-1] are the padding spaces
    ch, prev, nxt = c[p], c[p - 1], c[p + 1]
    digits = (prev >= 48) & (prev <= 57) & (nxt >= 48) & (nxt <= 57)
    out[p[(ch == 46) & digits]] = 46
    out[p[(ch == 33) & (nxt == 61)]] = 33
    out[p[(ch == 42) & ((prev == 42) | (nxt == 42))]] = _SPACE
    mark = p[(ch != 46) & (ch != 33) & ((nxt == 32) | (nxt == 9))]
    if len(mark):
        at_start = c[mark - 1] == 10
        at_start |= np.isin(mark, starts[:-1])
        mark = mark[at_start & ~np.isin(mark + 1, starts - 1)]  # the joining spaces do not follow a marker
        out[mark] = _SPACE
    return out


def normalize_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised code points of " " + texts joined by " " + " ", and each text's start offset.

    uint8 when every text is ASCII, else uint32. Only word characters, kept symbols, spaces and
    FIELD_SEP remain.
    """
    fold, defer, fold_ascii = _tables()
    joined = " " + " ".join(texts) + " "
    if joined.isascii():
        c = np.frombuffer(joined.encode("ascii"), np.uint8)
        starts = _starts(texts)
        return _context(c, fold_ascii[c], starts), starts
    c = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    deferred = np.flatnonzero(defer[c])
    starts = _starts(texts)
    if not len(deferred):
        return _context(c, fold[c], starts), starts
    slow = np.unique(np.searchsorted(starts, deferred, side="right") - 1).tolist()
    texts = list(texts)
    for i in slow:
        texts[i] = _folded(texts[i])
    starts = _starts(texts)
    c = np.frombuffer((" " + " ".join(texts) + " ").encode("utf-32-le", "surrogatepass"), np.uint32)
    out = _context(c, fold[np.minimum(c, 0xFFFF)], starts)
    t2s = _t2s_array()
    for i in slow:  # already normalised but for t2s
        out[starts[i]:starts[i + 1] - 1] = t2s[c[starts[i]:starts[i + 1] - 1]]
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
