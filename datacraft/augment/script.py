"""Simplified or Traditional Chinese: tell which one a text is written in, and convert to it (OpenCC).

Detection counts the distinct characters that exist in only one of the two scripts (from OpenCC's own
character tables), so it costs two set intersections instead of a full conversion.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import opencc
from opencc import OpenCC

HANS = "hans"
HANT = "hant"


def _table(name: str) -> dict[str, set[str]]:
    path = Path(opencc.__file__).parent / "dictionary" / f"{name}.txt"
    mapping: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        if source:
            mapping[source] = set(targets.split())
    return mapping


@cache
def _only() -> tuple[frozenset[str], frozenset[str]]:
    t2s = _table("TSCharacters")
    s2t = _table("STCharacters")
    # A character counts for a script only when it cannot also be read as the other one.
    traditional = {c for c, targets in t2s.items() if len(c) == 1 and c not in targets and c not in s2t}
    simplified = {c for c, targets in s2t.items() if len(c) == 1 and c not in targets and c not in t2s}
    return frozenset(traditional), frozenset(simplified)


def chinese_script(text: str) -> str:
    """HANT when distinct Traditional-only characters outnumber Simplified-only ones, else HANS.

    >>> chinese_script("这是简体中文"), chinese_script("這是繁體中文")
    ('hans', 'hant')
    """
    traditional, simplified = _only()
    chars = set(text)  # distinct characters: a set intersection runs in C, a per-character loop would not
    return HANT if len(chars & traditional) > len(chars & simplified) else HANS


@cache
def _converter(conversion: str) -> OpenCC:
    return OpenCC(conversion)


@lru_cache(maxsize=65536)
def to_script(text: str, script: str) -> str:
    """`text` converted to Simplified (HANS) or Traditional (HANT) Chinese.

    >>> to_script("软件", HANT), to_script("軟體", HANS)
    ('軟件', '软体')
    """
    return _converter("s2t" if script == HANT else "t2s").convert(text)
