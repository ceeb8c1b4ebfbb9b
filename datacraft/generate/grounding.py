"""Is a question-answer pair grounded in its passage? A cheap lexical check, and a language check.

`support` is the share of the answer's content units that occur in the passage: words (without
common function words) for alphabetic text, character pairs for Chinese, Japanese and Korean. An
answer made up of facts from the passage scores high even when reworded; an answer about something
else scores near zero. For a judgement by an LLM, run `review --auto` on the output: the judge is
shown each record's passage.
"""

from __future__ import annotations

import re

from datacraft.generate.lang import text_language

_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset("""a an the and or but of to in on at for with by from as is are was were be been being it its
this that these those there here which who whom whose what when where why how than then so such not no yes do does
did has have had can could may might must shall should will would i you he she we they them his her their our your
my me us also very more most some any each other into over about after before between during because if while""".split())


def units(text: str) -> set[str]:
    """Content units of a text: lowercase words (no function words), and CJK character pairs.

    >>> sorted(units("The Zhaozhou Bridge was built in 605"))
    ['605', 'bridge', 'built', 'zhaozhou']
    >>> sorted(units("赵州桥建于隋代"))
    ['于隋', '州桥', '建于', '桥建', '赵州', '隋代']
    """
    found: set[str] = set()
    for run in _CJK_RUN.findall(text):
        found.update(run[i:i + 2] for i in range(len(run) - 1)) if len(run) > 1 else found.add(run)
    rest = _CJK_RUN.sub(" ", text)
    found.update(w for w in (m.lower() for m in _WORD.findall(rest)) if w not in _STOP)
    return found


def support(answer: str, passage: str) -> float:
    """Share of the answer's content units found in the passage (1.0 for an answer with none).

    >>> support("It was built in 605 by Li Chun.", "The bridge was built in 605 by Li Chun.")
    1.0
    >>> support("Paris is the capital of France.", "The bridge was built in 605 by Li Chun.")
    0.0
    """
    mine = units(answer)
    if not mine:
        return 1.0
    return len(mine & units(passage)) / len(mine)


def _script(lang: str) -> str:
    return "latin" if lang in ("en", "other") else lang


def check_grounded(record: dict, passage: str, min_support: float | None) -> tuple[bool, str, str]:
    """(ok, reason, detail) for a generated pair: in the passage's language, and supported by it."""
    answer = str(record.get("output", ""))
    asked = f"{record.get('instruction', '')} {answer}"
    expected, got = text_language(passage), text_language(asked)
    if _script(expected) != _script(got) and len(asked.strip()) >= 8:
        return False, "wrong_language", f"the passage is {expected}, the pair is {got}"
    if min_support is not None:
        share = support(answer, passage)
        if share < min_support:
            return False, "ungrounded", f"only {share:.0%} of the answer's words occur in its passage (need {min_support:.0%})"
    return True, "", ""
