"""`validate --lang`: warn when a record's answer is not in the expected language.

A Chinese set whose answers are in English teaches a model to answer Chinese questions in English
(the Llama 3 case); this finds those records before training. Code blocks and inline code are left
out of the check, since code is Latin script in any language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from datacraft.records import Record

# textutil (its regexes take 0.02 s to compile) is imported where used: `validate` imports this
# module for LANGS, and most runs never pass --lang.

_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
_ANSWER_ROLES = {"assistant", "gpt"}
_LATIN_WORD = re.compile(r"[A-Za-z]+")
LANGS = ("zh", "en", "ja", "ko")
MIN_CJK_SHARE = 1 / 3  # below this a "Chinese" answer is mostly English words


def answer_text(record: Record) -> str:
    """The assistant side of a record: output, assistant turns, or the chosen answer.

    >>> answer_text({"instruction": "q", "output": "a"}), answer_text({"messages": [{"role": "assistant", "content": "b"}]})
    ('a', 'b')
    """
    for key, role_key, text_key in (("messages", "role", "content"), ("conversations", "from", "value")):
        turns = record.get(key)
        if isinstance(turns, list):
            return "\n".join(t[text_key] for t in turns if isinstance(t, dict) and t.get(role_key) in _ANSWER_ROLES
                             and isinstance(t.get(text_key), str))
    for key in ("output", "chosen"):
        value = record.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("value", value.get("content")), str):
            return value.get("value", value.get("content"))
    return ""


def cjk_share(text: str) -> float | None:
    """CJK characters over CJK characters plus Latin words (None when there are neither).

    A Chinese word is one or two characters, so this weighs a Chinese and an English sentence of
    the same length about equally, and a Chinese answer quoting a few English terms stays Chinese.

    >>> cjk_share("冰雪(snow), 寒冷(cold)"), cjk_share("Hello there"), cjk_share("123")
    (0.6667, 0.0, None)
    """
    from datacraft.textutil import cjk_count

    cjk, words = cjk_count(text), len(_LATIN_WORD.findall(text))
    return round(cjk / (cjk + words), 4) if cjk + words else None


def language_problem(record: Record, lang: str) -> str | None:
    """Why the record's answer is not in `lang`, or None when it is (or has no words to judge).

    >>> language_problem({"instruction": "你好", "output": "Hello! How can I help?"}, "zh")
    'answer is in en (CJK share 0%), expected zh'
    >>> language_problem({"instruction": "写代码", "output": "用这个：```print(1)```"}, "zh") is None
    True
    """
    from datacraft.textutil import language

    text = _CODE.sub(" ", answer_text(record))
    share = cjk_share(text)
    if share is None:
        return None
    if lang == "zh":
        return None if share >= MIN_CJK_SHARE else f"answer is in {language(text)} (CJK share {share:.0%}), expected zh"
    if lang == "en":
        return None if share <= 1 - MIN_CJK_SHARE else f"answer is in {language(text)} (CJK share {share:.0%}), expected en"
    found = language(text)
    return None if found in ("other", lang) else f"answer is in {found}, expected {lang}"


def language_warnings(paths: Sequence[str], lang: str, read_options: dict[str, Any] | None = None) -> Iterator[str]:
    """`path:line: warning: ...` for each record whose answer is not in `lang`."""
    from datacraft.io.readers import iter_records

    for path in paths:
        for row in iter_records(path, **(read_options or {})):
            problem = language_problem(row.value, lang)
            if problem:
                yield f"{row.where}: warning: {problem}"
