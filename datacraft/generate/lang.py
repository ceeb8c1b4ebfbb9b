"""Which prompt language a text calls for: zh-Hans, zh-Hant, ja, ko, en, or `other` (the fallback prompt).

Simplified and Traditional Chinese are told apart by characters that differ between the two
scripts (们/們, 这/這, ...); English and other Latin-script languages by how many of the words are
common English function words. Coarse on purpose: it picks a prompt, it does not label data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from datacraft.textutil import language

LANGS = ("en", "zh-Hans", "zh-Hant", "ja", "ko", "other")
NAMES = {"en": "English", "zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese", "ja": "Japanese",
         "ko": "Korean", "other": "the language of the examples"}
ALIASES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-hans": "zh-Hans", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant",
           "zh-hant": "zh-Hant", "en": "en", "ja": "ja", "ko": "ko", "other": "other"}

# Common characters written differently in the two scripts (simplified, traditional).
_PAIRS = ("们們 这這 个個 来來 为為 说說 时時 会會 对對 国國 学學 么麼 与與 后後 过過 还還 发發 开開 问問 题題 "
          "体體 关關 点點 经經 样樣 现現 种種 从從 当當 应應 实實 长長 书書 无無 见見 让讓 给給 话話 请請 "
          "认認 识識 语語 读讀 写寫 间間 动動 电電 车車 门門 钱錢 买買 卖賣 东東 脑腦 机機 线線 网網 号號 "
          "们們 并並 几幾 产產 业業 亲親 爱愛 气氣 华華 历歷 热熱 应應 处處 边邊 万萬 义義 乐樂 习習 乡鄉")
_SIMPLIFIED = frozenset(pair[0] for pair in _PAIRS.split())
_TRADITIONAL = frozenset(pair[1] for pair in _PAIRS.split())
_WORDS = re.compile(r"[A-Za-z']+")
_ENGLISH = frozenset("""the a an and or of to in on at for with by from is are was were be been it this that
these those what which who how why when where do does did can could should would will not no you your i we they
he she his her their our as if then than so but about into over write give explain list describe""".split())


def text_language(text: str) -> str:
    """The prompt language for one text.

    >>> text_language("请解释这个问题"), text_language("請解釋這個問題"), text_language("Explain the idea")
    ('zh-Hans', 'zh-Hant', 'en')
    >>> text_language("Expliquez le fonctionnement de la photosynthèse aux élèves")
    'other'
    """
    coarse = language(text)
    if coarse == "zh":
        simplified = sum(ch in _SIMPLIFIED for ch in text)
        traditional = sum(ch in _TRADITIONAL for ch in text)
        return "zh-Hant" if traditional > simplified else "zh-Hans"
    if coarse in ("ja", "ko"):
        return coarse
    words = [w.lower() for w in _WORDS.findall(text)]
    if not words:
        return "other" if coarse == "other" else "en"
    english = sum(w in _ENGLISH for w in words)
    # English prose has a function word in every three or four words; short commands ("Sort [3, 1]") few
    return "en" if english * 8 >= len(words) or len(words) < 4 else "other"


def majority_language(texts: Iterable[str]) -> str:
    """The language most texts call for (ties go to the first seen).

    >>> majority_language(["請說明", "請解釋這個", "Explain this"])
    'zh-Hant'
    """
    votes = Counter(text_language(t) for t in texts)
    return votes.most_common(1)[0][0] if votes else "en"


def normalise(tag: str) -> str:
    """A user's --lang value as a prompt language ("zh" is Simplified Chinese)."""
    return ALIASES.get(tag.strip().lower(), tag)
