"""The filters' text counts for a block of texts at once, with numpy: per-record work becomes lookups.

The exact per-text functions in `filters.py` stay the reference. Every figure here is either exact
(letters and digits, spaces, line breaks, lengths: table lookups on the code points) or a bound
that can only understate (distinct 10-grams by hashing: a collision merges two n-grams, it never
splits one), so a text that these figures clear is one the exact function clears too, and every
other text takes the exact path. `tests/clean/test_blockstats.py` checks each claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import numpy as np

from datacraft.clean import kernel
from datacraft.records import Record, Text, texts

WORD, SPACE, UNSAFE_FOLD = 1, 2, 4  # bits of the per-code-point table
N = 10  # the n of ngram_repetition
_BASE = 0x01000193  # odd: the polynomial hash of an n-gram, modulo 2^32
_MULT, _MULT2, _MULT4 = (np.uint32(pow(_BASE, k, 1 << 32)) for k in (1, 2, 4))
_MIX = np.uint32(0x9E3779B1)
_BUCKET_BITS = 20  # 1M buckets for a block's ~300k 10-grams: few collisions, tables that stay in cache
# Texts counted with numpy before the compiled scan takes over when numba is not loaded yet:
# importing it costs about 0.85 s of CPU, the scan saves about 45 µs a record (2.5 texts), so a
# clean-only run breaks even near 20,000 records. In a run with dedupe, whose kernel loads numba
# after 4,096 records, the scan takes over from then on (`kernel.loaded`).
KERNEL_AFTER = 50_000


@cache
def char_table() -> np.ndarray:
    """Per code point: WORD for `[^\\W_]` (re's letters and digits), SPACE for `\\s` (= str.isspace),
    UNSAFE_FOLD where casefold() does not give one character of the same kind (then a squashed
    text's length is not its count of letters and digits)."""
    chars = "".join(map(chr, range(0x110000)))
    table = np.zeros(0x110000, np.uint8)
    for match in re.finditer(r"[^\W_]+", chars):
        table[match.start():match.end()] |= WORD
    for match in re.finditer(r"\s+", chars):
        table[match.start():match.end()] |= SPACE
    word = re.compile(r"[^\W_]")
    for start in range(0, 0x110000, 256):
        chunk = chars[start:start + 256]
        if chunk.casefold() == chunk:
            continue  # the usual case: nothing in these 256 code points folds
        for offset, ch in enumerate(chunk):
            folded = ch.casefold()
            if folded != ch and (len(folded) != 1 or bool(word.match(folded)) != bool(word.match(ch))):
                table[start + offset] |= UNSAFE_FOLD
    assert not (((table & SPACE) != 0) & ((table & UNSAFE_FOLD) != 0)).any()  # collapsing spaces keeps the fold count
    return table


@cache
def class_table(classes: tuple[tuple[int, str], ...]) -> np.ndarray:
    """Per code point, the OR of the bits (up to 1 << 15) whose character-class regex matches it (e.g. `(1, "[\\r]")`)."""
    chars = "".join(map(chr, range(0x110000)))
    table = np.zeros(0x110000, np.uint16)
    for bit, pattern in classes:
        for match in re.finditer(f"(?:{pattern})+", chars):
            table[match.start():match.end()] |= bit
    return table


def use_kernel(compiled: bool | None, counted: int) -> bool:
    """Whether to count with the compiled kernel: `compiled` if given, else once it is loaded or after KERNEL_AFTER texts."""
    if compiled is not None:
        return compiled
    return kernel.loaded() or (counted > KERNEL_AFTER and kernel.available())


def classes_present(texts: list[str], table: np.ndarray) -> list[int]:
    """For each text, the OR of `table` over its characters: which classes occur in it at all."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    codes = kernel.utf32("".join(texts))
    found = np.zeros(len(texts), table.dtype)
    filled = lengths > 0
    if filled.any():
        found[filled] = np.bitwise_or.reduceat(table[codes], (np.cumsum(lengths) - lengths)[filled])
    return found.tolist()


def _cumsum(mask: np.ndarray) -> np.ndarray:
    out = np.zeros(len(mask) + 1, np.int64)
    np.cumsum(mask, out=out[1:])
    return out


class TextStats:
    """Counts for every distinct text of a block; `index(text)` is None for a text not in the block.

    Per text: letters and digits (`words`), non-space characters (`solid`), line breaks, whether
    casefold keeps its letters-and-digits count, and on its whitespace-collapsed form
    `" ".join(text.split())`, which `ngram_repetition` scores: length, a lower bound on distinct
    10-grams, and whether a run of more than `run_limit` equal letters or digits may occur.
    With the compiled scan (`exact`), the distinct count and the run flag are exact, and `hint`
    says whether the refusal hint `filters._REFUSAL_HINT` occurs (numpy's path: None, unknown).
    """

    def __init__(self, run_limit: int | None = None, compiled: bool | None = None):
        self.run_limit = run_limit
        self._index: dict[str, int] = {}
        self.prose: dict[str, str] = {}  # text -> its prose, for texts that may hold code (set by the loader)
        self._buckets: np.ndarray | None = None
        self.compiled = compiled  # the numba scan: True, False, or None (after KERNEL_AFTER texts, if available)
        self._counted = 0
        self.exact = False  # distinct and has_run exact (the compiled scan), not bounds
        self.items: dict[int, tuple[Record, list[Text]]] = {}  # id(record) -> its texts, set by the loader

    def clear(self) -> None:
        self._index, self.prose, self.items = {}, {}, {}

    def texts_of(self, record: Record) -> list[Text]:
        """`list(texts(record))`, read once by the loader for a record of the block."""
        held = self.items.get(id(record))
        return held[1] if held is not None and held[0] is record else list(texts(record))

    def index(self, text: str) -> int | None:
        return self._index.get(text)

    def load(self, texts: Iterable[str]) -> None:
        """Compute the counts of `texts` (repeats are counted once), replacing the previous block."""
        items = list(dict.fromkeys(texts))
        self._index = {text: i for i, text in enumerate(items)}
        count = len(items)
        self._counted += count
        self.exact = use_kernel(self.compiled, self._counted)
        if self.exact:
            self._scan(items)
            return
        # str.split() and re's \s agree on whitespace: the collapsed form keeps every other character.
        flats = [" ".join(text.split()) for text in items]
        self.newlines = [text.count("\n") for text in items]
        self.hint = [None] * count  # left to the refusal check, which asks only for answers
        lengths = np.fromiter(map(len, flats), np.int64, count)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        codes = kernel.utf32("".join(flats))
        kind = char_table()[codes]
        word = (kind & WORD) != 0
        sums = {}
        for name, mask in (("words", word), ("spaces", codes == 32), ("unsafe", (kind & UNSAFE_FOLD) != 0)):
            total = _cumsum(mask)
            sums[name] = total[ends] - total[starts]
        self.flat_length = lengths.tolist()
        self.words = sums["words"].tolist()
        self.solid = (lengths - sums["spaces"]).tolist()
        self.fold_safe = (sums["unsafe"] == 0).tolist()
        seg = np.repeat(np.arange(count, dtype=np.int32), lengths)
        self.distinct = self._distinct_ngrams(codes, seg, count)
        self.has_run = self._runs(codes, seg, word, count)

    def _scan(self, items: list[str]) -> None:
        """The same counts in one compiled pass (kernel.py); there distinct and has_run are exact."""
        limit = self.run_limit
        rows = kernel.scan(items, char_table(), limit if limit is not None and limit >= 1 else 0)
        columns = rows.T.tolist()
        self.flat_length, self.words = columns[kernel.FLAT], columns[kernel.WORDS]
        self.solid, self.newlines, self.distinct = columns[kernel.SOLID], columns[kernel.NEWLINES], columns[kernel.DISTINCT]
        self.fold_safe = [n == 0 for n in columns[kernel.UNSAFE]]
        self.hint = [n != 0 for n in columns[kernel.HINT]]
        if limit is not None and limit < 1:
            self.has_run = [True] * len(items)
        else:  # exact (None: 0, never flagged)
            self.has_run = [n != 0 for n in columns[kernel.RUN]]

    def _distinct_ngrams(self, flat: np.ndarray, seg: np.ndarray, count: int) -> list[int]:
        """Distinct 10-grams per text, never more than the true number.

        Each 10-gram, with its text's index, is hashed to a bucket, and each occupied bucket is
        credited to one of the texts that hit it: a text gets at most one bucket per distinct
        10-gram of its own, so its count can fall short (collisions), never exceed the truth.
        """
        windows = len(flat) - N + 1
        if windows <= 0:
            return [0] * count
        # The polynomial hash (mod 2^32) of each window by doubling: 2-, 4-, 8-grams, then 8 + 2.
        h2 = flat[:-1] * _MULT + flat[1:]
        h4 = h2[:-2] * _MULT2 + h2[2:]
        hashed = h4[:windows] * _MULT4 + h4[4:4 + windows]
        hashed *= _MULT2
        hashed += h2[8:8 + windows]
        # A window across two texts is no 10-gram of either: it goes to the spare owner `count`.
        owner = np.where(seg[:windows] == seg[N - 1:], seg[:windows], np.int32(count))
        hashed += owner.astype(np.uint32) * _MIX
        hashed ^= hashed >> np.uint32(15)
        hashed *= _MIX
        buckets = (hashed >> np.uint32(32 - _BUCKET_BITS)).astype(np.intp)
        table = self._table()
        table[buckets] = owner + 1  # 0: an empty bucket
        credited = np.bincount(table, minlength=count + 2)[1:count + 1]
        table.fill(0)
        return credited.tolist()

    def _table(self) -> np.ndarray:
        if self._buckets is None:
            self._buckets = np.zeros(1 << _BUCKET_BITS, np.int32)
        return self._buckets

    def _runs(self, flat: np.ndarray, seg: np.ndarray, word: np.ndarray, count: int) -> list[bool]:
        """Whether a text may hold more than `run_limit` equal letters/digits in a row (True = look).

        A run across two texts flags the first: a false alarm sends it to the exact check, no harm.
        """
        limit = self.run_limit
        if limit is None:
            return [False] * count
        if limit < 1:
            return [True] * count
        if len(flat) <= limit:
            return [False] * count
        same = (flat[1:] == flat[:-1]) & word[1:]
        sums = _cumsum(same)
        long_run = sums[limit:] - sums[:-limit] == limit  # `limit` repeats after one character
        return (np.bincount(seg[:len(long_run)][long_run], minlength=count) > 0).tolist()

    def few_symbols(self, i: int, limit: float) -> bool:
        """`filters._few_symbols(text, limit)` from the counts."""
        solid = self.solid[i]
        return solid == 0 or 1 - self.words[i] / solid <= limit

    def repetition(self, i: int) -> float | None:
        """`ngram_repetition(text)` itself when the distinct count is exact (the compiled scan), else None."""
        if not self.exact:
            return None
        total = self.flat_length[i] - N + 1
        return 0.0 if total <= 0 else (total - self.distinct[i]) / total

    def few_repeats(self, i: int, limit: float) -> bool:
        """True when `ngram_repetition(text) <= limit` follows from the distinct 10-grams found."""
        total = self.flat_length[i] - N + 1
        return total <= 0 or (total - self.distinct[i]) / total <= limit

    def squashed_length(self, i: int) -> int | None:
        """`len(filters._squash(text))`, or None when casefold could change it."""
        return self.words[i] if self.fold_safe[i] else None
