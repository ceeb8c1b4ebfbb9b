"""The near-dedupe hot loop compiled with numba: normalised text -> OPH signatures and band keys.

`SignatureBank.add` does, as numpy array passes over a whole batch: tokenize, shingle hashes
(`shingles.py`), OPH bins and densification (`minhash.py`), band keys. Each pass writes
temporaries the size of the batch's text. This module does the same arithmetic in one pass per
text, with a few small buffers, so it gives the same bits (tests/dedupe/test_dedupe_kernel.py
checks it against the numpy path) at a fraction of the CPU time.

numba is optional (`pip install datacraft[fast]`): without it, or with DATACRAFT_NUMBA=0 in the
environment, `available()` is False and the bank uses the numpy path.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from datacraft.compiled import numba_jit
from datacraft.dedupe.minhash import _band_weights, _probe_table
from datacraft.dedupe.normalize import normalize_batch
from datacraft.dedupe.shingles import _ANSWER_SALT, _B_CHAR, _B_TOK, CJK_START


@cache
def _compiled():
    """The jitted kernel, or None when numba is missing or switched off."""
    jit = numba_jit()
    return None if jit is None else jit(_rows)


def available() -> bool:
    """Whether the compiled kernel can be used in this process."""
    return _compiled() is not None


def bank_rows(texts: Sequence[str], k: int, bands: int, rows: int, ngram_cjk: int,
              ngram_word: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uint16 signatures n x k, uint32 band keys n x bands, has-shingles n) of raw texts, answer-tagged.

    The same values as `signatures(*shingle_hashes(texts, ..., tag_answer=True), n, k)` (top 16
    bits kept), `band_keys` of that, and whether each text has a shingle.
    """
    kernel = _compiled()
    n = len(texts)
    sig16 = np.empty((n, k), np.uint16)
    keys = np.empty((n, bands), np.uint32)
    has = np.zeros(n, bool)
    ascii_rows = [i for i, s in enumerate(texts) if s.isascii()]  # O(1) per str
    if not ascii_rows or len(ascii_rows) == n:
        groups = [(None, texts)]
    else:  # ASCII texts normalise one byte per character, as in shingle_hashes
        other_rows = [i for i, s in enumerate(texts) if not s.isascii()]
        groups = [(np.asarray(ascii_rows), [texts[i] for i in ascii_rows]),
                  (np.asarray(other_rows), [texts[i] for i in other_rows])]
    pow2 = k & (k - 1) == 0
    shift = k.bit_length() - 1 if pow2 else 0
    for where, part in groups:
        if not part:
            continue
        c, starts = normalize_batch(part)
        s16 = sig16 if where is None else np.empty((len(part), k), np.uint16)
        ky = keys if where is None else np.empty((len(part), bands), np.uint32)
        hs = has if where is None else np.zeros(len(part), bool)
        kernel(c, starts, k, pow2, shift, bands, rows, ngram_cjk, ngram_word, np.uint64(_B_CHAR),
               np.uint64(_B_TOK), np.uint64(_ANSWER_SALT), _probe_table(k), _band_weights(rows), s16, ky, hs)
        if where is not None:
            sig16[where], keys[where], has[where] = s16, ky, hs
    return sig16, keys, has


def _rows(c, starts, k, pow2, shift, bands, rows, ngram_cjk, ngram_word, b_char, b_tok, salt,
          probes, weights, sig16, keys, has):
    """Per text: tokens, tagged shingle hashes, OPH minimums, densification, band keys (see module doc).

    Written for numba (explicit uint64 arithmetic everywhere: mixing it with Python ints would
    give floats); it also runs, slowly, as plain Python on numpy scalars.
    """
    empty = np.uint32(0xFFFFFFFF)
    mask32 = np.uint64(0xFFFFFFFF)
    space, cjk = np.uint64(32), np.uint64(CJK_START)
    m1, m2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # splitmix64, as shingles.mix64
    s30, s27, s31 = np.uint64(30), np.uint64(27), np.uint64(31)
    bit16 = np.uint64(1 << 16)
    n_probes = probes.shape[1]
    u64k = np.uint64(k)
    top = np.uint64(64 - shift)
    longest = 1
    for t in range(len(starts) - 1):
        longest = max(longest, starts[t + 1] - starts[t])
    tok = np.empty(longest, np.uint64)
    tag = np.empty(longest, np.bool_)
    sig = np.empty(k, np.uint32)
    orig = np.empty(k, np.uint32)
    for t in range(len(starts) - 1):
        lo, hi = starts[t], starts[t + 1] - 1  # c[hi] is the space after the text
        last_sep = lo - 1  # the answer is what follows the text's last FIELD_SEP (all of it without one)
        for i in range(lo, hi):
            if c[i] == 0:
                last_sep = i
        ntok = 0
        ncjk = 0
        i = lo
        while i < hi:
            ch = np.uint64(c[i])
            if ch <= space:
                i += 1
                continue
            start = i
            if ch >= cjk:  # one token per CJK character
                h = ch
                ncjk += 1
                i += 1
            else:  # a run of word characters: sum c[start+j] * B^j (mod 2^32)
                h = np.uint64(0)
                p = np.uint64(1)
                while i < hi and np.uint64(c[i]) > space and np.uint64(c[i]) < cjk:
                    h += np.uint64(c[i]) * p
                    p *= b_char
                    i += 1
            tok[ntok] = h & mask32
            tag[ntok] = start > last_sep
            ntok += 1
        for b in range(k):
            sig[b] = empty
        if ntok == 0:
            has[t] = False
        else:
            has[t] = True
            w = ngram_cjk if 2 * ncjk >= ntok else ngram_word
            if ntok < w:  # fewer tokens than n: one shingle of them all
                w = ntok
            for s in range(ntok - w + 1):
                h = np.uint64(0)
                p = np.uint64(1)
                for j in range(w):
                    h += tok[s + j] * p
                    p *= b_tok
                if tag[s]:
                    h ^= salt
                h ^= h >> s30
                h *= m1
                h ^= h >> s27
                h *= m2
                h ^= h >> s31
                h &= ~bit16
                if tag[s]:
                    h |= bit16
                if pow2:
                    b = h >> top
                else:
                    b = ((h >> np.uint64(32)) * u64k) >> np.uint64(32)
                v = np.uint32(h & mask32)
                if v < sig[b]:
                    sig[b] = v
            for b in range(k):  # densify: an empty bin takes its first non-empty probe
                orig[b] = sig[b]
            for b in range(k):
                if orig[b] != empty:
                    continue
                found = False
                for j in range(n_probes):
                    v = orig[probes[b, j]]
                    if v != empty:
                        sig[b] = v
                        found = True
                        break
                if not found:  # else the next non-empty bin to the right, wrapping around
                    for d in range(1, k):
                        v = orig[(b + d) % k]
                        if v != empty:
                            sig[b] = v
                            break
        for band in range(bands):
            acc = np.uint64(0)
            for r in range(rows):
                acc += np.uint64(sig[band * rows + r]) * weights[r]
            acc ^= acc >> s30
            acc *= m1
            acc ^= acc >> s27
            acc *= m2
            acc ^= acc >> s31
            keys[t, band] = np.uint32(acc >> np.uint64(32))
        for b in range(k):
            sig16[t, b] = np.uint16(sig[b] >> np.uint32(16))
