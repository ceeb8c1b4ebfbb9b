"""The block counts of `clean` compiled with numba: one pass over each text's UTF-32 code points.

`blockstats.TextStats.load` computes its counts as about forty numpy passes over a block (collapse
the whitespace of every text in Python, encode, look up, prefix sums, n-gram hashes by doubling, a
bucket table of 2^20 entries, bincounts). `scan` walks each text's code points once, collapsing
the whitespace as it goes, and gives the same exact counts (letters and digits, non-space and
fold-unsafe characters, line breaks, collapsed length); where numpy has sound bounds it gives the
exact figures they bound: distinct 10-grams (a small per-text hash table, windows checked char by
char) and whether a run of more than `run_limit` equal letters or digits occurs (numpy's flag may
also fire for a run across two texts); and whether the refusal hint `\\bas an?\\b|作为` (re.I)
occurs. `classes` gives the normaliser its character classes and two flags. tests/clean/
test_blockstats.py checks every column against the exact per-text functions and the numpy path.

numba is optional (`pip install datacraft[fast]`): without it, or with DATACRAFT_NUMBA=0 in the
environment, `available()` is False and the numpy path runs.
"""

from __future__ import annotations

import sys
from functools import cache

import numpy as np

from datacraft.compiled import numba_jit

N = 10  # the n of ngram_repetition
BASE = 0x01000193  # the polynomial hash of a window, modulo 2^32 (only its table slot depends on it)
MIX16 = 0x9E37  # odd, about 2^16 / golden ratio: spreads a window's hash over the table's slots
WORD, SPACE, UNSAFE_FOLD = 1, 2, 4  # the bits of blockstats.char_table (a test checks they agree)
# Columns of scan's per-text output.
FLAT, WORDS, SOLID, UNSAFE, NEWLINES, DISTINCT, RUN, HINT = range(8)


@cache
def _compiled():
    """The jitted kernels, or None when numba is missing or switched off."""
    jit = numba_jit()
    if jit is None:
        return None
    global _hint_at  # called from _scan, so compiled before it (plain Python calls either form)
    _hint_at = jit(_hint_at_py)
    return jit(_scan), jit(_classes)


def available() -> bool:
    """Whether the compiled kernels can be used in this process."""
    return _compiled() is not None


def loaded() -> bool:
    """Whether numba is already in this process (dedupe's kernel loads it): then these load in milliseconds."""
    if _compiled.cache_info().currsize:
        return _compiled() is not None
    return "numba" in sys.modules and available()


def encode(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' code points end to end (uint32; lone surrogates kept) and each text's length."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    return utf32("".join(texts)), lengths


def utf32(text: str) -> np.ndarray:
    """The code points of `text` (uint32), lone surrogates kept."""
    try:  # the strict codec is 5x faster than with an error handler; lone surrogates are rare
        data = text.encode("utf-32-le")
    except UnicodeEncodeError:
        data = text.encode("utf-32-le", "surrogatepass")
    return np.frombuffer(data, np.uint32)


def scan(texts: list[str], table: np.ndarray, run_limit: int, python: bool = False) -> np.ndarray:
    """Per text (rows), the columns FLAT..HINT; `python` runs the kernel uncompiled (slow: for tests)."""
    codes, lengths = encode(texts)
    out = np.zeros((len(texts), 8), np.int64)
    longest = int(lengths.max()) if len(texts) else 0
    size = 16
    while size < 2 * longest:
        size *= 2
    flat = np.empty(max(longest, 1), np.int64)
    slots = np.empty(size, np.int64)
    (_scan if python else _compiled()[0])(codes, lengths, table, run_limit, out, flat, slots)
    return out


def classes(texts: list[str], table: np.ndarray, space: int, cjk: int, fullwidth: int, not_punct: int,
            dirty: int, halfwidth: int) -> list[int]:
    """For each text, the OR of `table` over its characters (as `blockstats.classes_present`), and two flags.

    `dirty`: `normalize.whitespace_is_clean(text, rare=False)` is False (a space at either end,
    two spaces, a tab, " \\n" or three line breaks). `halfwidth`: `normalize.to_halfwidth` cannot
    return early (a `not_punct` character, or a line with a `fullwidth` but no `cjk` character).
    `space`, `cjk`, `fullwidth`, `not_punct` are the table's bits for those classes.
    """
    codes, lengths = encode(texts)
    found = np.zeros(len(texts), np.int64)
    _compiled()[1](codes, lengths, table, space, cjk, fullwidth, not_punct, dirty, halfwidth, found)
    return found.tolist()


def _classes(codes, lengths, table, space, cjk, fullwidth, not_punct, dirty, halfwidth, found):
    """`classes`' loop, text by text (numba; it also runs as plain Python)."""
    pos = 0
    for t in range(len(lengths)):
        n = lengths[t]
        acc = 0
        flags = 0
        back1 = back2 = -1
        line_full = line_cjk = False
        for i in range(pos, pos + n):
            c = np.int64(codes[i])
            kind = np.int64(table[c])
            acc |= kind
            if c == 9 or (c == 32 and back1 == 32) or (c == 10 and (back1 == 32 or (back1 == 10 and back2 == 10))):
                flags |= dirty
            if c == 10:
                if line_full and not line_cjk:
                    flags |= halfwidth
                line_full = line_cjk = False
            else:
                line_full = line_full or (kind & fullwidth) != 0
                line_cjk = line_cjk or (kind & cjk) != 0
            back2, back1 = back1, c
        if n > 0 and (table[codes[pos]] & space or table[codes[pos + n - 1]] & space):
            flags |= dirty
        if (line_full and not line_cjk) or acc & not_punct:
            flags |= halfwidth
        found[t] = acc | flags
        pos += n


def _scan(codes, lengths, table, run_limit, out, flat, slots):
    """Each text's collapsed form `" ".join(text.split())` and its counts, text by text.

    One loop over the text's code points counts and collapses (into `flat`); a second over the
    collapsed form counts distinct 10-grams exactly: an open-addressing table (at most half full,
    so it stays small and in cache) whose slots hold 31 bits of a window's polynomial hash and its
    start + 1 (0: empty), windows compared char by char when two hashes agree. Written for numba
    with int64 arithmetic that never overflows; it also runs,
    slowly, as plain Python.
    """
    mask = 0xFFFFFFFF
    base_n = 1
    for _ in range(N):
        base_n = (base_n * BASE) & mask  # BASE^N: the weight of the char leaving the window
    pos = 0
    for t in range(len(lengths)):
        n = lengths[t]
        end = pos + n
        p = 0  # chars of the collapsed form so far
        run = 0  # equal letters or digits after a first one, as `([^\W_])\1{run_limit,}` counts them
        prev = -1
        solid = words = unsafe = newlines = flagged = hint = 0
        pending = False  # whitespace after a solid char: one space before the next solid char
        for i in range(pos, end):
            c = np.int64(codes[i])
            kind = table[c]
            if kind & SPACE:
                if c == 10:
                    newlines += 1
                elif c == 32 and hint == 0 and i - 2 >= pos and i + 1 < end and (
                        (codes[i - 1] | 0x20) == 0x73 or codes[i - 1] == 0x17F):  # after s, S or ſ: look closer
                    hint = _hint_at(codes, table, pos, end, i)
                if p > 0:
                    pending = True
                continue
            if c == 0x4E3A and i > pos and codes[i - 1] == 0x4F5C:  # 作为: the refusal hint's other half
                hint = 1
            solid += 1
            if kind & WORD:
                words += 1
                run = run + 1 if c == prev and not pending else 0
                if run >= run_limit > 0:
                    flagged = 1
            else:
                run = 0
            if kind & UNSAFE_FOLD:
                unsafe += 1
            if pending:
                flat[p] = 32
                p += 1
                pending = False
            flat[p] = c
            p += 1
            prev = c
        bits = 4
        while (1 << bits) < 2 * p:
            bits += 1
        top = (1 << bits) - 1
        for i in range(top + 1):
            slots[i] = 0
        distinct = 0
        h = 0  # polynomial hash of the last N chars
        for q in range(p):
            h = h * BASE + flat[q]
            if q >= N:
                h -= flat[q - N] * base_n
            h &= mask
            if q < N - 1:
                continue
            start = q - N + 1
            # Fibonacci hashing with a 16-bit multiplier (the product stays under 2^48; any slot would
            # do for the count, windows being compared char by char, but spread ones probe less)
            slot = ((h * MIX16) & mask) >> (32 - bits)
            key = h & 0x7FFFFFFF  # 31 bits: the packed slot stays a positive int64
            while True:
                held = slots[slot]
                if held == 0:
                    slots[slot] = (key << 32) | (start + 1)
                    distinct += 1
                    break
                if held >> 32 == key:
                    seen = (held & mask) - 1
                    k = 0
                    while k < N and flat[seen + k] == flat[start + k]:
                        k += 1
                    if k == N:
                        break
                slot = (slot + 1) & top
        out[t, FLAT], out[t, DISTINCT], out[t, RUN], out[t, HINT] = p, distinct, flagged, hint
        out[t, SOLID], out[t, WORDS], out[t, UNSAFE], out[t, NEWLINES] = solid, words, unsafe, newlines
        pos += n


def _hint_at_py(codes, table, lo, end, i):
    """1 when the space codes[i] is the one of a match of `\\bas an?\\b` (re.I: a is [aA], s is [sSſ],
    n is [nN]; \\b beside "_" or a WORD character) in codes[lo:end], else 0."""
    if not ((codes[i - 2] == 0x61 or codes[i - 2] == 0x41) and (codes[i + 1] == 0x61 or codes[i + 1] == 0x41)
            and (codes[i - 1] == 0x73 or codes[i - 1] == 0x53 or codes[i - 1] == 0x17F)):
        return 0
    if i - 2 > lo and (codes[i - 3] == 95 or table[codes[i - 3]] & WORD):
        return 0
    after = codes[i + 2] if i + 2 < end else 32  # the end of the text is a boundary
    if not (after == 95 or table[after] & WORD):
        return 1
    if (after == 0x6E or after == 0x4E) and (i + 3 == end or not (codes[i + 3] == 95 or table[codes[i + 3]] & WORD)):
        return 1
    return 0


_hint_at = _hint_at_py  # what _scan calls; `_compiled` puts the jitted form here
