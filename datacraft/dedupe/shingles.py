"""Vectorised shingling: a batch of texts -> 64-bit shingle hashes (normalised as in normalize.py).

Tokens are single characters for CJK (and other scripts from U+2E80 up: kana, hangul, Yi) and
runs of other word characters for space-separated text. A record's shingles are its token
n-grams, with n = `ngram_cjk` when at least half of its tokens are CJK characters and
`ngram_word` otherwise; a record with fewer tokens than n is one shingle. All hashing is
numpy arithmetic on fixed constants, so results do not depend on PYTHONHASHSEED or the process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from datacraft.dedupe.normalize import normalize_batch

U64 = np.uint64
MASK32 = (1 << 32) - 1


def _splitmix(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & (2**64 - 1)
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return state, z ^ (z >> 31)


def constants(count: int, salt: int) -> np.ndarray:
    """`count` fixed pseudo-random odd uint64 constants (the same in every process and version)."""
    state, out = salt, []
    for _ in range(count):
        state, z = _splitmix(state)
        out.append(z | 1)
    return np.array(out, dtype=U64)


_B_CHAR = int(constants(1, 1)[0]) & MASK32  # polynomial base for characters -> token hash (mod 2^32)
_B_TOK = int(constants(1, 2)[0])            # polynomial base for tokens -> shingle hash (mod 2^64)


class _Powers:
    """Growing tables of base^i and base^-i modulo 2^bits (base odd, so it has an inverse)."""

    def __init__(self, base: int, bits: int):
        self.base, self.bits = base, bits
        self.dtype = np.uint32 if bits == 32 else U64
        self.inv = pow(base, -1, 1 << bits)
        self.pow = self.ipow = np.ones(0, self.dtype)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.pow) < n:
            size = max(n, 2 * len(self.pow), 1 << 16)
            self.pow, self.ipow = self._table(self.base, size), self._table(self.inv, size)
        return self.pow, self.ipow

    def _table(self, base: int, size: int) -> np.ndarray:
        steps = np.full(size, base, dtype=self.dtype)
        steps[0] = 1
        return np.cumprod(steps, dtype=self.dtype)  # wraps modulo 2^bits


_CHAR_POW = _Powers(_B_CHAR, 32)
_TOK_POW = _Powers(_B_TOK, 64)
CJK_START = 0x2E80  # code points from here up are one token each (CJK radicals .. CJK extensions)
_TOKEN = re.compile(r"[\u2e80-\U0010ffff]|[^\x00-\x20_\u2e80-\U0010ffff]+")


def shingles(norm: str, ngram_cjk: int, ngram_word: int) -> list[str]:
    """Pure-Python reference of the shingles `shingle_hashes` hashes, from `normalize` output.

    >>> from datacraft.dedupe.normalize import normalize
    >>> shingles(normalize("The cat sat, on the mat."), 5, 3)
    ['the cat sat', 'cat sat on', 'sat on the', 'on the mat']
    >>> shingles(normalize("机器学习"), 3, 3), shingles("hi", 3, 3)
    (['机 器 学', '器 学 习'], ['hi'])
    """
    tokens = _TOKEN.findall(norm)
    if not tokens:
        return []
    cjk = sum(1 for t in tokens if ord(t[0]) >= CJK_START)
    n = ngram_cjk if 2 * cjk >= len(tokens) else ngram_word
    if len(tokens) < n:
        return [" ".join(tokens)]
    return [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def tokenize(texts: Sequence[str], last_field: bool = False) -> tuple[np.ndarray, ...]:
    """Token hashes (uint32) of a batch of raw texts, plus per text its token count and CJK-token count.

    With `last_field`, also per token whether it lies in the text's last field (after its last FIELD_SEP).
    """
    c, starts = normalize_batch(texts)
    is_tok = c > 32  # normalised: only word characters, spaces and FIELD_SEP (0) are left
    if c.dtype == np.uint8:  # all ASCII
        word = is_tok
        cjk_pos = None
    else:
        is_cjk = c >= CJK_START
        word = is_tok & ~is_cjk
        cjk_pos = np.flatnonzero(is_cjk)
    boundary = word[1:] & word[:-1]  # a word character continuing the previous one
    np.logical_not(boundary, out=boundary)
    first = np.flatnonzero(is_tok[1:] & boundary) + 1  # c[0] is the leading space
    last = np.flatnonzero(is_tok[:-1] & boundary)      # the trailing space ends every token
    pw, ipw = _CHAR_POW.get(len(c))
    prefix = np.multiply(c, pw[: len(c)], dtype=np.uint32)
    np.cumsum(prefix, dtype=np.uint32, out=prefix)
    # token hash = sum c[first+k] * B^k (mod 2^32), from the prefix sums
    token = prefix[last]
    token -= prefix[first - 1]
    token *= ipw[first]
    counts = np.diff(np.searchsorted(first, starts))
    cjk_counts = np.diff(np.searchsorted(cjk_pos, starts)) if cjk_pos is not None else np.zeros(len(texts), np.int64)
    if not last_field:
        return token, counts, cjk_counts
    seps = np.flatnonzero(c == 0)
    # per text, its last separator (or its start when it has none: all of it is "the last field")
    last = np.searchsorted(seps, starts[1:]) - 1
    last_sep = np.where(last >= 0, seps[np.maximum(last, 0)] if len(seps) else -1, -1)
    last_sep = np.maximum(last_sep, starts[:-1] - 1)
    text_of = np.repeat(np.arange(len(texts)), counts)
    return token, counts, cjk_counts, first > last_sep[text_of]


def ngram_sizes(counts: np.ndarray, cjk_counts: np.ndarray, ngram_cjk: int, ngram_word: int) -> np.ndarray:
    """Per text: ngram_cjk when at least half its tokens are CJK characters, else ngram_word."""
    return np.where(2 * cjk_counts >= np.maximum(counts, 1), ngram_cjk, ngram_word).astype(np.int64)


ANSWER_BIT = U64(1 << 16)  # with tag_answer: set in shingles of the last field (the answer), clear elsewhere
_ANSWER_SALT = constants(1, 3)[0]


def shingle_hashes(texts: Sequence[str], ngram_cjk: int, ngram_word: int,
                   tag_answer: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """64-bit shingle hashes of a batch of raw texts (normalised here), and the batch row of each.

    `tag_answer` overwrites bit 16 of each hash with whether the shingle starts in the text's last
    field (fields joined by FIELD_SEP; the answer of a record): a MinHash bin then tells which part
    its minimum came from, so prompt and answer similarity can be estimated apart (see lsh.py).
    """
    ascii_rows = [i for i, s in enumerate(texts) if s.isascii()]  # O(1) per str
    if not ascii_rows or len(ascii_rows) == len(texts):
        return _shingle_part(texts, ngram_cjk, ngram_word, tag_answer)
    # ASCII texts go through one byte per character: a quarter of the memory traffic
    other_rows = [i for i, s in enumerate(texts) if not s.isascii()]
    h1, r1 = _shingle_part([texts[i] for i in ascii_rows], ngram_cjk, ngram_word, tag_answer)
    h2, r2 = _shingle_part([texts[i] for i in other_rows], ngram_cjk, ngram_word, tag_answer)
    rows = np.concatenate([np.asarray(ascii_rows)[r1], np.asarray(other_rows)[r2]])
    return np.concatenate([h1, h2]), rows


def _shingle_part(texts: Sequence[str], ngram_cjk: int, ngram_word: int,
                  tag_answer: bool = False) -> tuple[np.ndarray, np.ndarray]:
    token, counts, cjk_counts, *answer = tokenize(texts, tag_answer)
    n = ngram_sizes(counts, cjk_counts, ngram_cjk, ngram_word)
    size = len(token)
    bounds = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(counts, out=bounds[1:])
    pw, ipw = _TOK_POW.get(size + 1)
    prefix = np.zeros(size + 1, U64)
    np.multiply(token, pw[:size], out=prefix[1:], dtype=U64)
    np.cumsum(prefix[1:], out=prefix[1:])
    # shingle (t, w) = sum token[t+k] * B^k = (prefix[t+w] - prefix[t]) * B^-t: contiguous slices
    # for every start t at once; it lies inside one text when tokens t and t+w-1 share the text.
    text_of = np.repeat(np.arange(len(texts), dtype=np.int32), counts)
    hashes, rows, tags = [], [], []
    widths = np.unique(n[counts >= n]).tolist()
    mixed = len(np.unique(n[counts > 0])) > 1
    if mixed:  # the width with the most tokens takes the contiguous pass, the others gather theirs
        n_tok = n[text_of]
        major = max(widths, key=lambda w: int(counts[n == w].sum()))
    for w in widths:
        if mixed and w != major:
            t = np.flatnonzero(n_tok == w)
            t = t[t + w - 1 < size]
            t = t[text_of[t + w - 1] == text_of[t]]
            hashes.append((prefix[t + w] - prefix[t]) * ipw[t])
            rows.append(text_of[t])
            if answer:
                tags.append(answer[0][t])
            continue
        m = size - w + 1
        h = prefix[w:] - prefix[:m]
        h *= ipw[:m]
        inside = text_of[:m] == text_of[w - 1:]
        if mixed:
            inside &= n_tok[:m] == w
        hashes.append(h[inside])
        rows.append(text_of[:m][inside])
        if answer:
            tags.append(answer[0][:m][inside])
    short = np.flatnonzero((counts > 0) & (counts < n))  # fewer tokens than n: one shingle of them all
    if len(short):
        a, b = bounds[short], bounds[short + 1]
        hashes.append((prefix[b] - prefix[a]) * ipw[a])
        rows.append(short.astype(np.int32))
        if answer:
            tags.append(answer[0][a])
    if not hashes:
        return np.zeros(0, U64), np.zeros(0, np.int32)
    if not answer:
        return mix64(np.concatenate(hashes)), np.concatenate(rows)
    # an answer shingle hashes apart from the same words in the prompt (toolformer-like answers repeat
    # their input): a twin differing in bit 16 only would always lose the bin's minimum to the prompt's
    tag = np.concatenate(tags).astype(U64)
    out = np.concatenate(hashes)
    out ^= tag * _ANSWER_SALT
    out = mix64(out)
    out &= ~ANSWER_BIT
    out |= tag << U64(16)
    return out, np.concatenate(rows)


def mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array (turns a linear hash into a well-spread one)."""
    z ^= z >> U64(30)
    z *= U64(0xBF58476D1CE4E5B9)
    z ^= z >> U64(27)
    z *= U64(0x94D049BB133111EB)
    z ^= z >> U64(31)
    return z
