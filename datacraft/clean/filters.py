"""The text measures behind the quality filters: repetition, symbols, refusal patterns.

The checks that apply them to each turn by role live in `clean/checks.py`; `record_filter(config)`
there chains them into one predicate for `filter_stage`. Code blocks and LaTeX math
are left out of the repetition and symbol measures, so code and math answers are judged on their prose.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import regex

from datacraft.textutil import CJK_CLASS

# An unclosed `\(` or `\[` must not scan the whole rest of the text from every opener (quadratic):
# a span stops at the next opener of its kind.
_CODE_OR_MATH = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]+`|\$\$.*?\$\$|\$[^$\n]+\$"
                           r"|\\\((?:(?!\\\().)*?\\\)|\\\[(?:(?!\\\[).)*?\\\]", re.S)
# Markdown markup is formatting, not junk: bold/italic markers, headings, table pipes and rules.
# The rule alternative needs a separator between dash runs: with `(?:\s*-{3,}\s*)+` a dash run can
# be split every way, and a long run followed by text took minutes (exponential backtracking).
# Optional pipes are written `[ \t]*(?:\|[ \t]*)?`: two adjacent `[ \t]*` made long space runs quadratic.
_MARKDOWN = re.compile(
    r"\*\*|__|^#{1,6} |^[ \t]*[-*+] "
    r"|^[ \t]*(?:\|[ \t]*)?:?-{3,}:?(?:(?:[ \t]*\|[ \t]*|[ \t]+):?-{3,}:?)*[ \t]*(?:\|[ \t]*)?$|\|", re.M)
_SPACE = re.compile(r"\s+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]+")
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
_ANY_UNIT = re.compile(rf"[^\W_]|[{CJK_CLASS}]")  # text_length(text) >= 1 exactly when this is found
# The unanchored refusal patterns need one of these; the others are anchored at the start.
_REFUSAL_HINT = re.compile(r"\bas an?\b|作为", re.I)
_JUNK_CHARS = frozenset("#$%&@^~\\`|*_※")
_JUNK_CATEGORIES = frozenset(("So", "Sk", "Co", "Cn", "Cs", "Cc"))

# Refusals and "as an AI" disclaimers. A pattern fires only when the model speaks of itself and
# declines or disclaims (cannot / don't / 无法 / 没有), or opens the answer with an apology and a
# refusal; "As an AI assistant, I suggest three strategies: ..." and essays about AI are kept.
# "As an AI language model, I ..." is dropped wherever it appears: it is the best-known boilerplate.
_NEG_EN = r"(?:cannot|can't|can not|don't|do not|am not|unable|not able|won't|will not|lack)"
_NEG_ZH = r"(?:无法|不能|没有|不会|不具备|不可以)"
_REFUSAL = [re.compile(p, re.I) for p in (
    r"\bas an? (?:ai |artificial intelligence |large )?language model\b,? (?:i|my)\b",
    rf"\bas an? (?:ai|artificial intelligence)(?: assistant| model)?,? i\b[^.!?\n]{{0,80}}?\b{_NEG_EN}\b",
    # "I am an AI ..." only in the answer's first sentence: later it is often a scripted AI character.
    rf"\A[^.!?\n]{{0,40}}?\bi(?:'m| am) (?:just |only )?an? (?:ai|(?:ai )?language model)\b[^.!?\n]{{0,40}}?\b{_NEG_EN}\b",
    rf"\A(?:i'm sorry|i am sorry|sorry|i apologi[sz]e)\b[^.!?\n]{{0,60}}?\bi {_NEG_EN}\b",
    r"\Ai (?:cannot|can't|can not|am unable to|am not able to|won't) (?:help|assist|provide|fulfill|comply|answer|complete|generate|create|write|do that)\b",
    r"作为(?:一个|一名)?(?:AI|人工智能|大型)?语言模型[，,]?\s*我",
    rf"作为(?:一个|一名)?(?:AI|人工智能)(?:助手|助理|模型)?[，,]\s*我[^。！？\n]{{0,40}}?{_NEG_ZH}",
    rf"\A[^。！？\n]{{0,15}}?我是(?:一个|一名|个)?(?:AI|人工智能|语言模型|文本机器人)[^。！？\n]{{0,20}}?{_NEG_ZH}",
    # After an apology only a refusal counts: "抱歉，OpenAI 与我没有关系" (identity data) is an answer.
    r"\A我?(?:很抱歉|非常抱歉|抱歉|对不起)[^。！？\n]{0,40}?我(?:无法|不能|不可以|没有办法|不具备)",
    r"\A我(?:无法|不能)(?:回答|提供|完成|满足|协助|帮助|执行|处理|生成)",
)]
_ANCHORED_REFUSAL = [p for p in _REFUSAL if p.pattern.startswith("\\A")]
# One search for "does any anchored pattern match": the alternation matches exactly when one does.
_ANY_ANCHORED = re.compile("|".join(f"(?:{p.pattern})" for p in _ANCHORED_REFUSAL), re.I)


def may_hold_code(text: str) -> bool:
    """False when `text` has none of the characters code or math spans start with: prose(text) is text."""
    return "`" in text or "$" in text or "~" in text or "\\" in text  # four C-level scans, no regex


def prose(text: str) -> str:
    """Text without code blocks, inline code and LaTeX math.

    >>> prose("Use `x = 1` and $a^2$ here")
    'Use   and   here'
    """
    if not may_hold_code(text):
        return text  # nothing to remove; skips the regex pass for most texts
    return _CODE_OR_MATH.sub(" ", text)


_prose_cache: tuple[tuple[str, str], ...] = ()


def prose_once(text: str) -> str:
    """`prose(text)`, remembered for the last few texts: the repetition and symbol checks share it."""
    global _prose_cache
    cache = _prose_cache  # one read: another thread may replace it (generate checks replies in threads)
    for seen, result in cache:
        if seen is text:
            return result
    result = prose(text)
    _prose_cache = ((text, result), *cache[:3])
    return result


def ngram_repetition(text: str, n: int = 10) -> float:
    """Share of character n-grams that repeat an earlier one (0 = none, near 1 = a loop).

    >>> round(ngram_repetition("abc" * 20), 2), ngram_repetition("The quick brown fox jumps over the lazy dog")
    (0.94, 0.0)
    """
    flat = " ".join(text.split())
    total = len(flat) - n + 1
    if total <= 0:
        return 0.0
    return (total - len({flat[i:i + n] for i in range(total)})) / total


def duplicate_line_ratio(text: str, min_lines: int = 4) -> float:
    """Share of non-empty lines that repeat an earlier line (0 when there are fewer than `min_lines`).

    >>> duplicate_line_ratio("a\\nb\\na\\na"), duplicate_line_ratio("a\\na")
    (0.5, 0.0)
    """
    if text.count("\n") + 1 < min_lines:
        return 0.0
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return (len(lines) - len(set(lines))) / len(lines) if len(lines) >= min_lines else 0.0


def symbol_ratio(text: str, min_chars: int = 10) -> float:
    """Share of junk symbols (emoji, ★※, control chars, #@$&...) among non-space characters.

    Markdown markup and math operators are not junk; texts under `min_chars` score 0.

    >>> round(symbol_ratio("★★★ 好评 ★★★ ###!!!"), 2), symbol_ratio("**Note:** 1 + 2 = 3, x < y")
    (0.64, 0.0)
    """
    text = _SPACE.sub("", _MARKDOWN.sub("", text))
    if len(text) < min_chars:
        return 0.0
    # Letters, digits and CJK are never junk; only the (few) other characters need a category lookup.
    rest = _LETTER_OR_DIGIT.sub("", text)
    junk = sum(1 for ch in rest if ch in _JUNK_CHARS or unicodedata.category(ch) in _JUNK_CATEGORIES)
    return junk / len(text)


def _squash(text: str) -> str:
    return _NOT_LETTER_OR_DIGIT.sub("", text.casefold())


@cache
def _char_run(limit: int) -> re.Pattern[str]:
    return re.compile(rf"([^\W_])\1{{{limit},}}")


def _few_repeats(text: str, limit: float, n: int = 10) -> bool:
    """True when `ngram_repetition(text, n) <= limit` follows from the distinct characters alone.

    Distinct (k+1)-grams are at least distinct k-grams minus one (each k-gram but the last extends
    to a different (k+1)-gram), so distinct n-grams >= distinct k-grams - (n - k). Chinese text
    has enough distinct characters (k = 1), English enough distinct 3-grams, to settle most records
    without building the set of n-grams.
    """
    flat = " ".join(text.split())
    total = len(flat) - n + 1
    if total <= 0 or (total - (len(set(flat)) - (n - 1))) / total <= limit:
        return True
    # The same bound from distinct 3-grams (built in C by zip): settles most English text.
    return (total - (len(set(zip(flat, flat[1:], flat[2:], strict=False))) - (n - 3))) / total <= limit


def _few_symbols(text: str, limit: float) -> bool:
    """True when `symbol_ratio(text) <= limit` follows from counting letters and digits.

    Junk is at most the characters that are not letters, digits or spaces; removing Markdown only
    removes such characters, so the ratio is at most 1 - letters_digits / non_space_characters.
    """
    solid = len("".join(text.split()))  # str.split and the regex \s agree on what whitespace is
    if solid == 0:
        return True
    words = len(text) - len(_LETTER_OR_DIGIT.sub("", text))
    return 1 - words / solid <= limit


def may_hold_hint(text: str) -> bool:
    """False when `_REFUSAL_HINT` surely finds nothing: under re.I its "as a" is [aA][sSſ] [aA]."""
    return "作为" in text or "as a" in text.lower() or "\u017f" in text


# What an anchored refusal can start with (re.I: i is [iIİı], s is [sSſ]).
_OPENERS = frozenset("iI\u0130\u0131sS\u017f我很非抱对")


def may_open_refusal(text: str) -> bool:
    """False when no anchored refusal pattern can match `text` (a few string tests, no regex).

    They start with i/s or 我很非抱对, or have "我是" in the first 17 characters, or "i'm " /
    "i am " (so "m " or "M ") in the first 46.
    """
    head = text[:46]
    return text[:1] in _OPENERS or "m " in head or "M " in head or "我是" in head[:17]


def refusal_match(text: str, hinted: bool | None = None) -> re.Match[str] | None:
    """The first refusal pattern matching `text` (in `_REFUSAL` order), or None.

    The unanchored patterns need "as a(n)" or "作为"; without either only the anchored ones run.
    `hinted`, when known, says whether `_REFUSAL_HINT` finds either (`TextStats.hint`).
    """
    if hinted is None:
        hinted = may_hold_hint(text) and _REFUSAL_HINT.search(text) is not None
    # Every anchored pattern starts with \A: match() is search() without trying each later position.
    if not hinted and not (may_open_refusal(text) and _ANY_ANCHORED.match(text)):
        return None
    for pattern in _REFUSAL if hinted else _ANCHORED_REFUSAL:
        if match := pattern.search(text):
            return match
    return None


def user_pattern(pattern: str) -> regex.Pattern:
    """A user-supplied blacklist regex, compiled with the `regex` module (it supports a timeout)."""
    return regex.compile(pattern, regex.IGNORECASE | regex.V0)
