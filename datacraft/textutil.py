"""Small text helpers shared by clean, dedupe, stats and export: script detection and lengths."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

# CJK ideographs (incl. extension A and compatibility), kana, hangul.
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK = re.compile(f"[{CJK_CLASS}]")
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
_WORD = re.compile(rf"[^\W\d_{CJK_CLASS}]+|\d+")
_LATIN = re.compile(r"[A-Za-z]")
_LATIN_RUN = re.compile(r"[A-Za-z]+")
_KANA_OR_HANGUL = re.compile("[\u3040-\u30ff\uac00-\ud7af]")


def cjk_count(text: str) -> int:
    """Number of CJK characters.

    >>> cjk_count("LoRA 微调")
    2
    """
    return sum(map(len, _CJK_RUN.findall(text)))  # runs, not characters: fewer objects for Chinese text


def is_cjk(text: str) -> bool:
    """True when CJK characters make up at least a third of the letters.

    >>> is_cjk("请解释 LoRA"), is_cjk("Explain LoRA")
    (True, False)
    """
    cjk = cjk_count(text)
    if not cjk:
        return False
    return cjk * 3 >= cjk + sum(map(len, _LATIN_RUN.findall(text)))  # runs: one object per word


def text_length(text: str) -> int:
    """Length in CJK characters plus words: the unit length filters use.

    >>> text_length("请解释 LoRA 的原理"), text_length("Explain how LoRA works")
    (7, 4)
    """
    return cjk_count(text) + len(_WORD.findall(text))


def language(text: str) -> str:
    """A coarse language tag: "zh", "ja", "ko", "en" (Latin script) or "other".

    >>> language("你好"), language("hello there"), language("12345")
    ('zh', 'en', 'other')
    """
    if _KANA_OR_HANGUL.search(text):  # one scan for both, then which (most texts have neither)
        if re.search("[\u3040-\u30ff]", text):
            return "ja"
        return "ko"
    if is_cjk(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return "other"


# `languages` adds up, per text, one uint64 per UTF-16 code unit holding four 16-bit counts: Latin
# letters, CJK (kana and hangul included), hangul, kana. Every class is in the BMP, so a character
# above it (two surrogate code units) counts in none, as in `language`. Texts of 2^15 characters
# or more (up to 2^16 code units) could carry over from one count into the next; they are tagged
# one by one.
_FIELD_BITS = 16
_LONG = 1 << (_FIELD_BITS - 1)
_TAGS = ("other", "en", "zh", "ja", "ko")
_scratch = threading.local()  # each thread's buffer for the per-unit counts, reused from batch to batch


@cache
def _script_counts() -> Any:
    """Per UTF-16 code unit: its packed counts (surrogates, and so every character above the BMP: none)."""
    import numpy as np

    latin, cjk, hangul, kana = (np.uint64(1 << (_FIELD_BITS * k)) for k in range(4))
    table = np.zeros(0x10000, np.uint64)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        table[lo:hi + 1] = cjk
    table[0x3040:0x30FF + 1] = cjk + kana
    table[0xAC00:0xD7AF + 1] = cjk + hangul
    table[ord("A"):ord("Z") + 1] = latin
    table[ord("a"):ord("z") + 1] = latin
    return table


def languages(texts: Sequence[str]) -> list[str]:
    """`language` of each text, for many texts at once: one numpy pass over all their characters.

    >>> languages(["你好", "hello there", "12345", "こんにちは", "안녕", ""])
    ['zh', 'en', 'other', 'ja', 'ko', 'other']
    """
    import numpy as np

    tags = ["other"] * len(texts)
    short = [i for i, text in enumerate(texts) if 0 < len(text) < _LONG]
    for i, text in enumerate(texts):
        if len(text) >= _LONG:
            tags[i] = language(text)
    if not short:
        return tags
    units = [texts[i].encode("utf-16-le", "surrogatepass") for i in short]
    lengths = np.fromiter(map(len, units), np.int64, len(units)) // 2
    codes = np.frombuffer(b"".join(units), np.uint16)
    buffer = getattr(_scratch, "counts", None)
    if buffer is None or len(buffer) < len(codes):
        buffer = _scratch.counts = np.empty(max(len(codes), 1 << 16), np.uint64)
    counts = buffer[:len(codes)]
    np.take(_script_counts(), codes, out=counts)
    sums = np.add.reduceat(counts, np.cumsum(lengths) - lengths)
    mask = np.uint64((1 << _FIELD_BITS) - 1)
    latin, cjk, hangul, kana = ((sums >> np.uint64(_FIELD_BITS * k)) & mask for k in range(4))
    latin, cjk = latin.astype(np.int64), cjk.astype(np.int64)
    # `language`'s order of tests: kana, then hangul, then CJK against Latin letters, then Latin.
    tag = np.where(latin > 0, 1, 0)
    tag = np.where((cjk > 0) & (cjk * 3 >= cjk + latin), 2, tag)
    tag = np.where(hangul > 0, 4, tag)
    tag = np.where(kana > 0, 3, tag)
    for i, t in zip(short, tag.tolist(), strict=True):
        tags[i] = _TAGS[t]
    return tags
