"""Quality filters for instruction data: each check returns None (keep) or (reason, detail).

`record_filter(config)` chains the enabled checks into one predicate for `filter_stage`. Reasons
are snake_case constants; details say what fired, e.g. ("output_too_long", "output: 5120 units > 4000").
Code blocks and LaTeX math are left out of the repetition and symbol measures, so code and math
answers are judged on their prose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

import regex
from rapidfuzz import fuzz

from datacraft.clean.config import FilterConfig
from datacraft.records import Record, record_text
from datacraft.textutil import CJK_CLASS, language, text_length

Verdict = tuple[str, str] | None
Check = Callable[[Record], Verdict]

_STRING_FIELDS = ("instruction", "input", "output", "system")
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


def prose(text: str) -> str:
    """Text without code blocks, inline code and LaTeX math.

    >>> prose("Use `x = 1` and $a^2$ here")
    'Use   and   here'
    """
    if not any(c in text for c in "`~$\\"):
        return text  # nothing to remove; skips the regex pass for most texts
    return _CODE_OR_MATH.sub(" ", text)


_last_prose: tuple[str, str] = ("", "")


def _prose_once(text: str) -> str:
    """`prose(text)`, remembered for the last text: the repetition and symbol checks share it."""
    global _last_prose
    last = _last_prose  # one read: another thread may replace it (generate checks replies in threads)
    if last[0] is text:
        return last[1]
    result = prose(text)
    _last_prose = (text, result)
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


def check_fields(cfg: FilterConfig) -> Check:
    """Required fields present, non-empty strings; optional fields of the right type."""

    def check(record: Record) -> Verdict:
        for name in cfg.required:
            value = record.get(name)
            if value is None:
                return "missing_field", name
            if not isinstance(value, str):
                return "bad_type", f"{name}: expected a string, got {type(value).__name__}"
            if not value.strip():
                return f"empty_{name}", f"{name} is blank"
        for name in _STRING_FIELDS:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                return "bad_type", f"{name}: expected a string, got {type(value).__name__}"
        history = record.get("history")
        if history is not None and not (isinstance(history, list) and all(
                isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(s, str) for s in t) for t in history)):
            return "bad_type", "history: expected a list of [user, assistant] string pairs"
        return None

    return check


def check_lengths(cfg: FilterConfig) -> Check:
    """Instruction and output lengths in units (CJK characters + words); total size in characters."""
    bounds = [("instruction", cfg.min_instruction_length, cfg.max_instruction_length),
              ("output", cfg.min_output_length, cfg.max_output_length)]

    def check(record: Record) -> Verdict:
        for name, low, high in bounds:
            value = record.get(name)
            if not isinstance(value, str) or (low is None and high is None):
                continue
            # Each unit takes at least one character, and one is there when _ANY_UNIT finds it: the
            # usual bounds (at least 1, at most thousands) are settled without counting.
            if (high is None or len(value) <= high) and (low is None or low <= 0 or (
                    low == 1 and _ANY_UNIT.search(value))):
                continue
            units = text_length(value)
            if low is not None and units < low:
                return f"{name}_too_short", f"{name}: {units} units < {low}"
            if high is not None and units > high:
                return f"{name}_too_long", f"{name}: {units} units > {high}"
        if cfg.max_total_chars is not None:
            total = sum(len(v) for v in (record.get(f) for f in _STRING_FIELDS) if isinstance(v, str))
            total += sum(len(s) for t in record.get("history") or () for s in t if isinstance(s, str))
            if total > cfg.max_total_chars:
                return "too_long", f"{total} characters > {cfg.max_total_chars}"
        return None

    return check


def check_repeats_instruction(cfg: FilterConfig) -> Check:
    """The output only echoes the instruction (same text up to case and punctuation, or nearly)."""
    threshold = cfg.max_instruction_similarity

    def check(record: Record) -> Verdict:
        instruction, output = _squash(record.get("instruction") or ""), _squash(record.get("output") or "")
        if not instruction or not output:
            return None
        if instruction == output:
            return "output_repeats_instruction", "output equals the instruction"
        shorter, total = min(len(instruction), len(output)), len(instruction) + len(output)
        if 2 * shorter < threshold * total:
            return None  # the lengths alone keep the similarity below the threshold
        score = fuzz.ratio(instruction, output) / 100
        if score >= threshold:
            return "output_repeats_instruction", f"similarity {score:.2f} >= {threshold}"
        return None

    return check


def check_repetition(cfg: FilterConfig) -> Check:
    """Degenerate output: one character repeated, looping phrases, or the same lines again and again."""

    def check(record: Record) -> Verdict:
        text = _prose_once(record.get("output") or "")
        if cfg.max_char_run is not None and (match := _char_run(cfg.max_char_run).search(text)):
            return "repetitive_output", f"{match.group(1)!r} repeated {len(match.group(0))} times"
        if cfg.max_ngram_repetition is not None and not _few_repeats(text, cfg.max_ngram_repetition):
            score = ngram_repetition(text)
            if score > cfg.max_ngram_repetition:
                return "repetitive_output", f"repeated 10-grams {score:.2f} > {cfg.max_ngram_repetition}"
        if cfg.max_duplicate_lines is not None:
            score = duplicate_line_ratio(text)
            if score > cfg.max_duplicate_lines:
                return "repetitive_output", f"duplicate lines {score:.2f} > {cfg.max_duplicate_lines}"
        return None

    return check


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


def check_symbols(cfg: FilterConfig) -> Check:
    """Too many junk symbols in the instruction or the output prose."""
    limit = cfg.max_symbol_ratio

    def check(record: Record) -> Verdict:
        for name in ("instruction", "output"):
            text = _prose_once(record.get(name) or "") if name == "output" else prose(record.get(name) or "")
            if _few_symbols(text, limit):
                continue
            score = symbol_ratio(text)
            if score > limit:
                return "too_many_symbols", f"{name}: symbol ratio {score:.2f} > {limit}"
        return None

    return check


def check_refusal(record: Record) -> Verdict:
    """The output refuses, or speaks as "an AI language model" / "作为一个AI语言模型"."""
    text = (record.get("output") or "").strip().replace("\u2019", "'")
    if not _REFUSAL_HINT.search(text):  # then only the patterns anchored at the start can match
        for pattern in _ANCHORED_REFUSAL:
            if match := pattern.search(text):
                return "refusal", match.group(0)[:80]
        return None
    for pattern in _REFUSAL:
        if match := pattern.search(text):
            return "refusal", match.group(0)[:80]
    return None


def check_blacklist(cfg: FilterConfig) -> Check:
    """Any blacklisted keyword anywhere in the record (case-insensitive)."""
    keywords = [(k, k.casefold()) for k in cfg.blacklist if k]

    def check(record: Record) -> Verdict:
        text = record_text(record, _STRING_FIELDS).casefold()
        for turn in record.get("history") or ():
            text += "\n" + "\n".join(s for s in turn if isinstance(s, str)).casefold()
        for keyword, folded in keywords:
            if folded in text:
                return "blacklisted_keyword", keyword
        return None

    return check


def _user_pattern(pattern: str) -> regex.Pattern:
    return regex.compile(pattern, regex.IGNORECASE | regex.V0)


def check_patterns(cfg: FilterConfig) -> Check:
    """Any blacklist regex matching the record; a pattern past `pattern_timeout` rejects, never hangs.

    User patterns can backtrack exponentially (`(a|aa)+$`), so they run under the `regex`
    module's per-call timeout: the record goes to the rejects file as `pattern_timeout`.
    """
    patterns = [(p, _user_pattern(p)) for p in cfg.blacklist_patterns]
    timeout = cfg.pattern_timeout

    def check(record: Record) -> Verdict:
        text = record_text(record, _STRING_FIELDS)
        for turn in record.get("history") or ():
            text += "\n" + "\n".join(s for s in turn if isinstance(s, str))
        for source, pattern in patterns:
            try:
                match = pattern.search(text, timeout=timeout)
            except TimeoutError:
                return "pattern_timeout", f"{source!r} ran past {timeout} s"
            if match:
                return "blacklisted_pattern", f"{source!r} matched {match.group(0)[:60]!r}"
        return None

    return check


def check_language(cfg: FilterConfig) -> Check:
    """The record's language (instruction + input + output) is one of `languages`."""
    allowed = set(cfg.languages or ())

    def check(record: Record) -> Verdict:
        tag = language(record_text(record))
        return None if tag in allowed else ("wrong_language", f"{tag} not in {sorted(allowed)}")

    return check


def build_checks(cfg: FilterConfig) -> list[Check]:
    """The enabled checks, cheapest and most basic first."""
    checks = [check_fields(cfg), check_lengths(cfg)]
    if cfg.max_instruction_similarity is not None:
        checks.append(check_repeats_instruction(cfg))
    if (cfg.max_char_run, cfg.max_ngram_repetition, cfg.max_duplicate_lines) != (None, None, None):
        checks.append(check_repetition(cfg))
    if cfg.max_symbol_ratio is not None:
        checks.append(check_symbols(cfg))
    if cfg.refusal:
        checks.append(check_refusal)
    if cfg.blacklist:
        checks.append(check_blacklist(cfg))
    if cfg.blacklist_patterns:
        checks.append(check_patterns(cfg))
    if cfg.languages:
        checks.append(check_language(cfg))
    return checks


def record_filter(cfg: FilterConfig | None = None) -> Callable[[Record], tuple[bool, str, str]]:
    """One predicate running every enabled check: (True, "", "") or (False, reason, detail)."""
    checks = build_checks(cfg or FilterConfig())

    def keep(record: Record) -> tuple[bool, str, str]:
        for check in checks:
            verdict = check(record)
            if verdict is not None:
                return False, verdict[0], verdict[1]
        return True, "", ""

    return keep
