"""The compiled kernel (numba) gives the same bits as the numpy path: signatures, band keys, has-shingles."""

from __future__ import annotations

import random

import numpy as np
import pytest

from datacraft.dedupe import kernel, lsh
from datacraft.dedupe.lsh import SignatureBank
from datacraft.dedupe.minhash import band_keys, signatures
from datacraft.dedupe.normalize import FIELD_SEP
from datacraft.dedupe.shingles import shingle_hashes
from tests.dedupe.helpers import chinese, edit_chars, edit_words, english
from tests.dedupe.test_dedupe_hashing import MIXED

needs_numba = pytest.mark.skipif(not kernel.available(), reason="numba is not installed (datacraft[fast])")


def texts(seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    out = list(MIXED)
    for _ in range(150):
        base = english(rng, rng.randrange(1, 90)) if rng.random() < 0.5 else chinese(rng, rng.randrange(1, 200))
        out.append(base)
        out.append(edit_words(rng, base, 2) if base.isascii() else edit_chars(rng, base, 3))
        # prompt + answer fields: the answer tag depends on the last FIELD_SEP
        out.append(FIELD_SEP.join([english(rng, 8), "", base]))
    out += [FIELD_SEP, FIELD_SEP * 3 + "only answer", "prompt only" + FIELD_SEP, "x" * 5000, "词" * 3]
    rng.shuffle(out)
    return out


def numpy_rows(batch: list[str], k: int, bands: int, rows: int) -> tuple[np.ndarray, ...]:
    hashes, row = shingle_hashes(batch, 2, 3, tag_answer=True)
    sig = signatures(hashes, row, len(batch), k)
    has = np.bincount(row, minlength=len(batch)) > 0
    return (sig >> np.uint32(16)).astype(np.uint16), band_keys(sig, bands, rows), has


@needs_numba
@pytest.mark.parametrize(("k", "bands", "rows"), [(128, 9, 14), (100, 10, 10), (16, 4, 4), (256, 32, 8)])
def test_kernel_matches_numpy_path(k, bands, rows):
    batch = texts()
    for lo in range(0, len(batch), 97):  # batches mixing ASCII and other texts, and all-ASCII ones
        part = batch[lo:lo + 97]
        got = kernel.bank_rows(part, k, bands, rows, 2, 3)
        want = numpy_rows(part, k, bands, rows)
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w)


@needs_numba
def test_bank_same_with_and_without_kernel(monkeypatch):
    batch = texts(5)
    monkeypatch.setattr(lsh, "KERNEL_AFTER", 0)
    fast = SignatureBank(128, 9, 14, 2, 3)
    fast.add(batch)
    monkeypatch.setattr(kernel, "available", lambda: False)
    slow = SignatureBank(128, 9, 14, 2, 3)
    slow.add(batch)
    assert np.array_equal(fast.sigs[0], slow.sigs[0])
    assert np.array_equal(fast.keys[0], slow.keys[0])
    assert np.array_equal(fast.has[0], slow.has[0])


@needs_numba
def test_small_inputs_skip_the_kernel(monkeypatch):
    calls = []
    monkeypatch.setattr(kernel, "bank_rows", lambda *a: calls.append(a) or pytest.fail("kernel used"))
    bank = SignatureBank(128, 9, 14, 2, 3)
    bank.add(texts()[: lsh.KERNEL_AFTER // 2])
    assert not calls


def test_switch_off(monkeypatch):
    monkeypatch.setenv("DATACRAFT_NUMBA", "0")
    kernel._compiled.cache_clear()
    try:
        assert not kernel.available()
    finally:
        kernel._compiled.cache_clear()
