"""Small text helpers shared by clean, dedupe, stats and export: script detection and lengths."""

from __future__ import annotations

import re

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
