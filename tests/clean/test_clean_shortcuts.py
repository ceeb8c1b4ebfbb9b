"""The shortcuts that let clean skip work decide exactly as the full computation would.

Each shortcut claims "the full step would not change this text" or "this score is within the
limit"; random texts over the characters that matter check each claim against the full step.
"""

from __future__ import annotations

import re

from ftfy import fix_text
from hypothesis import given, settings
from hypothesis import strategies as st

from datacraft.clean import normalize as N
from datacraft.clean.filters import (
    _ANY_UNIT,
    _few_repeats,
    _few_symbols,
    ngram_repetition,
    prose,
    symbol_ratio,
)
from datacraft.clean.mojibake import FTFY
from datacraft.textutil import text_length

ALPHABET = st.sampled_from(list("ab Z1 \t\n\r。，中文かがﾟ\u3099\u302a\u00a0\u200b\u3000ＡＢ！★#|-*_`$\\\x00\x1bÃ©â€™\ufeffé"))
TEXTS = st.text(ALPHABET, max_size=60)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_clean_whitespace_shortcut(text: str) -> None:
    if N.whitespace_is_clean(text):
        assert N._clean_whitespace(text) == text
    assert N.clean_whitespace(text) == N._clean_whitespace(text)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_ftfy_is_skipped_only_where_it_changes_nothing(text: str) -> None:
    import unicodedata

    if not N._FTFY_SUSPECT.search(text) and unicodedata.is_normalized("NFC", text):
        assert fix_text(text, FTFY) == text


@settings(max_examples=3000, deadline=None)
@given(TEXTS, st.sampled_from([0.1, 0.3, 0.5]))
def test_score_bounds(text: str, limit: float) -> None:
    text = prose(text)
    if _few_symbols(text, limit):
        assert symbol_ratio(text) <= limit
    if _few_repeats(text, limit):
        assert ngram_repetition(text) <= limit
    assert (text_length(text) >= 1) == bool(_ANY_UNIT.search(text))
    assert text_length(text) <= len(text)


FULLWIDTH = st.text(st.sampled_from(list("ab 中\n，：；！？（）ＡＢ１％＂，")), max_size=30)


@settings(max_examples=3000, deadline=None)
@given(FULLWIDTH)
def test_halfwidth_shortcut_matches_the_character_loop(text: str) -> None:
    from datacraft.clean.normalize import _CJK_PUNCT, cjk_count

    slow = []
    for line in text.split("\n"):
        keep = _CJK_PUNCT if cjk_count(line) else ""
        out = ""
        for i, ch in enumerate(line):
            if "\uff01" <= ch <= "\uff5e" and ch not in keep:
                ch = chr(ord(ch) - 0xFEE0)
                if ch in ",:;!?" and i + 1 < len(line) and line[i + 1].isalpha():
                    ch += " "
            out += ch
        slow.append(out)
    assert N.to_halfwidth(text) == "\n".join(slow)


@settings(max_examples=3000, deadline=None)
@given(st.text(st.sampled_from(list("ab Zz1 中文かカ한국\u3000，.LoRA微调")), max_size=40))
def test_language_is_unchanged(text: str) -> None:
    """`language` with one scan for kana/hangul and Latin letters counted in runs decides as before."""
    import re

    from datacraft.textutil import cjk_count, language

    def before(t: str) -> str:
        if re.search("[\u3040-\u30ff]", t):
            return "ja"
        if re.search("[\uac00-\ud7af]", t):
            return "ko"
        cjk = cjk_count(t)
        if cjk and cjk * 3 >= cjk + len(re.findall("[A-Za-z]", t)):
            return "zh"
        return "en" if re.search("[A-Za-z]", t) else "other"

    assert language(text) == before(text)


# Characters of ftfy's badness classes in good and bad company: real mojibake, curly quotes, dashes,
# accented letters, C1 controls, escapes, BOM, surrogates, and the lines ftfy cuts the text into.
MOJIBAKE = st.text(st.sampled_from(list("ab Z1 \n\t。中文\u200b★“”‘’–—…é°×²àäåæçèÃÂâ€™œŒšŠ¢£¥¤ØÙ√≈‚ÄвЂВГβΒ"
                                        "ā\x85\x1b\ufeff\ud800\u0301¡¿«»©®¬¦¨¯¸ƒ")), max_size=40)


@settings(max_examples=5000, deadline=None)
@given(st.one_of(MOJIBAKE, TEXTS, st.builds(lambda t: t.encode("utf-8", "surrogatepass").decode("cp1252", "replace"), MOJIBAKE)))
def test_ftfy_precheck_only_skips_what_ftfy_leaves_alone(text: str) -> None:
    from datacraft.clean.mojibake import fix_mojibake, ftfy_may_change

    if not ftfy_may_change(text):
        assert fix_text(text, FTFY) == text
        assert fix_mojibake(text) == text


def test_ftfy_precheck_reads_the_badness_regex() -> None:
    import re

    from ftfy.badness import BADNESS_RE

    from datacraft.clean.mojibake import _BAD, needed_chars

    assert _BAD is not None and _BAD[1] <= 10  # in effect with this ftfy: every alternative needs one
    assert {ord(c) for c in "ÃÂ€™“”–—éä\x85"} <= _BAD[0]
    assert needed_chars(re.compile("[a-z]é|b")) is None  # "b" needs no listed character: nothing skipped
    assert needed_chars(re.compile("é", re.I)) is None
    assert needed_chars(BADNESS_RE) == _BAD


REFUSALS = st.lists(st.sampled_from(["I'm sorry", "i am ", "I am an AI", " language model", "Sorry, ", "İ", "ı", "ſorry",
                                     "I cannot help", "我是AI，我无法", "很抱歉，我无法", "对不起", "我不能回答", "我是",
                                     "x", " ", ".", "\n", "as an AI, I can't", "m ", "中文"]), max_size=8).map("".join)


@settings(max_examples=3000, deadline=None)
@given(REFUSALS)
def test_refusal_openers_and_code_hint(text: str) -> None:
    from datacraft.clean.filters import (
        _ANY_ANCHORED,
        _REFUSAL,
        may_hold_code,
        may_open_refusal,
    )
    from datacraft.clean.filters import refusal_match as shortcut

    if _ANY_ANCHORED.match(text):
        assert may_open_refusal(text)
    want = next((m for p in _REFUSAL if (m := p.search(text))), None)  # every pattern, in order
    got = shortcut(text)
    assert (got and (got.re, got.span())) == (want and (want.re, want.span()))
    assert may_hold_code(text) == (re.search(r"[`~$\\]", text) is not None)  # the regex it replaced


RECORDS = st.fixed_dictionaries({}, optional={
    key: st.one_of(st.none(), st.text(max_size=3), st.integers(), st.lists(st.text(max_size=2), max_size=2))
    for key in ("instruction", "input", "output", "system", "history", "tools", "kto_tag", "chosen", "messages")})


@settings(max_examples=3000, deadline=None)
@given(RECORDS)
def test_plain_alpaca_records_read_cleanly(record: dict) -> None:
    from datacraft.clean.checks import _reads_cleanly
    from datacraft.records import conversation

    if _reads_cleanly(record):
        conversation(record)  # raises no Drop
