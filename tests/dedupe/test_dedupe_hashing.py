"""Normalisation, the vectorised shingler against its pure-Python reference, and MinHash estimates."""

from __future__ import annotations

import random

import numpy as np
import pytest

from datacraft.dedupe.lsh import agreement
from datacraft.dedupe.minhash import EMPTY, signatures
from datacraft.dedupe.normalize import exact_key, exact_keys, field_text, normalize, normalize_batch
from datacraft.dedupe.shingles import shingle_hashes, shingles
from tests.dedupe.helpers import chinese, edit_chars, edit_words, english

MIXED = [
    "Hello, World! How are you?", "你好，世界。今天天气很好！", "LoRA 微调需要多少显存？大约 24GB。",
    "snake_case and CamelCase_words", "日本語のテキストとカタカナ、ひらがな。", "한국어 문장도 있습니다.",
    "", "?!...", "a", "一", "Ｆｕｌｌ－ｗｉｄｔｈ ＡＳＣＩＩ １２３", "tabs\tand\nnewlines\r\n here",
    "emoji 🙂 and math ∑ x² ½", "x" * 300, "数" * 7, "Ünïcödé façade naïve café",
]


@pytest.mark.parametrize(("a", "b"), [
    ("Hello,   World!", "hello world"),
    ("ＡＢＣ１２３", "abc123"),
    ("你好，世界。", "你好,世界."),
    ("Straße", "STRASSE"),
    ("  leading and trailing  \n", "leading and trailing"),
])
def test_exact_key_ignores_case_width_spacing_and_punctuation(a, b):
    assert exact_key(normalize(a)) == exact_key(normalize(b))


def test_exact_key_keeps_words_and_field_boundaries():
    assert exact_key(normalize("hello world")) != exact_key(normalize("hello word"))
    one = field_text({"instruction": "ab", "input": "c"}, ("instruction", "input", "output"))
    two = field_text({"instruction": "a", "input": "bc"}, ("instruction", "input", "output"))
    assert exact_key(normalize(one)) != exact_key(normalize(two))


def test_field_text_handles_missing_none_and_lists():
    record = {"instruction": "q", "input": None, "output": "a", "history": [["h1", "h2"]]}
    assert field_text(record, ("instruction", "input", "output", "history")) == "q\x00\x00a\x00h1\x00h2"


TRICKY = ("aZ09 _-,.!?\t\n'\"()[]=*+>^<|~%&@$/\\\u2212\u2013\u2014＋＝＜．！＊～％國軟體這\x00ÀéßẞİıΣς\u0301\u0345ﬁ½²①™㈱ＡＡ，。、\u3000가각\u1100\u1161\u11a8"
          "ｶﾞ\u2160\u212a\U00020000\U0001d400🙂\ud800ไทย한국어日本語カタカナ中文")


def decoded(c: np.ndarray, starts: np.ndarray, i: int) -> str:
    return "".join(map(chr, c[starts[i]:starts[i + 1] - 1].tolist()))


def test_batch_normalisation_matches_the_reference():
    rng = random.Random(1)
    texts = MIXED + ["".join(rng.choice(TRICKY) for _ in range(rng.randrange(0, 30))) for _ in range(3000)]
    c, starts = normalize_batch(texts)
    for i, text in enumerate(texts):
        assert decoded(c, starts, i).split() == normalize(text).split(), repr(text)
    assert exact_keys(texts) == [exact_key(normalize(t)) if normalize(t).strip(" \x00") else None for t in texts]


def test_ascii_batches_match_unicode_batches():
    rng = random.Random(2)
    texts = ["".join(rng.choice(TRICKY[:20]) for _ in range(40)) for _ in range(300)]
    assert all(t.isascii() for t in texts)
    fast, fast_starts = normalize_batch(texts)
    slow, slow_starts = normalize_batch(texts + ["中"])
    assert fast.dtype == np.uint8 and slow.dtype == np.uint32
    for i in range(len(texts)):
        assert decoded(fast, fast_starts, i) == decoded(slow, slow_starts, i)


@pytest.mark.parametrize(("ngram_cjk", "ngram_word"), [(3, 3), (5, 3), (2, 1), (4, 6)])
def test_vectorised_shingles_match_the_reference(ngram_cjk, ngram_word):
    rng = random.Random(ngram_cjk * 10 + ngram_word)
    texts = MIXED + [english(rng, rng.randrange(1, 80)) for _ in range(30)] + \
        [chinese(rng, rng.randrange(1, 150)) for _ in range(30)]
    hashes, rows = shingle_hashes(texts, ngram_cjk, ngram_word)
    for i, text in enumerate(texts):
        reference = shingles(normalize(text), ngram_cjk, ngram_word)
        mine = hashes[rows == i]
        assert len(mine) == len(reference), texts[i]
        # equal shingles hash equal, different ones differ (64-bit: no collisions at this size)
        assert len(np.unique(mine)) == len(set(reference)), texts[i]
    assert hashes.dtype == np.uint64


def test_shingle_hashes_do_not_depend_on_batch_composition():
    texts = list(MIXED)
    together, rows = shingle_hashes(texts, 3, 3)
    for i, t in enumerate(texts):
        alone, _ = shingle_hashes([t], 3, 3)
        assert np.array_equal(alone, together[rows == i])


def test_minhash_estimates_jaccard():
    rng = random.Random(4)
    errors = []
    for trial in range(40):
        base = english(rng, 200) if trial % 2 else chinese(rng, 300)
        other = edit_words(rng, base, trial % 12) if trial % 2 else edit_chars(rng, base, trial % 12)
        sa, sb = set(shingles(normalize(base), 3, 3)), set(shingles(normalize(other), 3, 3))
        true = len(sa & sb) / len(sa | sb)
        hashes, rows = shingle_hashes([base, other], 3, 3)
        sig = signatures(hashes, rows, 2, 128)
        assert not (sig == EMPTY).any()
        errors.append(agreement(sig[:1], sig[1:])[0] / 128 - true)
    errors = np.array(errors)
    assert abs(errors.mean()) < 0.03 and np.abs(errors).max() < 0.15


def test_signatures_leave_empty_texts_empty_and_fill_short_ones():
    hashes, rows = shingle_hashes(["one two", "..."], 3, 3)
    sig = signatures(hashes, rows, 2, 64)
    assert (sig[1] == EMPTY).all()
    assert (sig[0] != EMPTY).all() and len(set(sig[0].tolist())) == 1  # one shingle fills every bin
