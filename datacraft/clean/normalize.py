"""Text normalisation for Alpaca records: Unicode, mojibake, HTML junk, width, whitespace, wrappers.

Each step is a pure function on one string; `Normalizer` applies the enabled steps to every text
field of a record (instruction, input, output, system, history) and counts which steps changed it.
Code (``` fences and `inline` spans) is masked first, so indentation and full-width characters in
code survive every step except line-ending and zero-width clean-up.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import cache

import orjson

from datacraft.clean import kernel
from datacraft.clean.blockstats import class_table, classes_present, use_kernel
from datacraft.clean.config import NormalizeConfig
from datacraft.clean.mojibake import SUSPECT as _FTFY_SUSPECT
from datacraft.clean.mojibake import fix_mojibake
from datacraft.records import (
    PREFERENCE_FIELDS,
    TOOL_ROLES,
    Record,
    alpaca_view,
    map_texts,
    record_format,
    texts,
)
from datacraft.textutil import CJK_CLASS, cjk_count

_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]+`", re.S)
# Noncharacters: never in real text, so they can stand in for masked code spans.
_MASK_OPEN, _MASK_CLOSE = "\ufdd0", "\ufdd1"
_MASK = re.compile(f"{_MASK_OPEN}(\\d+){_MASK_CLOSE}")

_HTML_NAMES = ("p|br|div|span|a|b|i|u|em|strong|li|ul|ol|h[1-6]|table|thead|tbody|tr|td|th|font|img|hr|"
               "blockquote|pre|code|section|article|sup|sub|small|center|script|style|html|body|head|"
               "meta|link|iframe|nav|header|footer")
# Attributes must carry `=value`, so prose like "if a <b and c> d" is not taken for a tag.
_KNOWN_TAG = re.compile(rf"</?(?:{_HTML_NAMES})(?:\s+[\w:-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))*\s*/?>", re.I)
_ANY_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s+[\w:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*\s*/?>")
_ENTITY = re.compile(r"&(?:nbsp|amp|lt|gt|quot|apos|mdash|ndash|hellip|rsquo|lsquo|rdquo|ldquo|#\d{1,7}|#x[0-9a-f]{1,6});", re.I)
# Records that ask about markup keep their tags: "<p>" in an answer about HTML is the answer.
_ABOUT_MARKUP = re.compile(r"\b(?:x?html5?|xml|markup|svg|jsx|tsx|css|dom|web ?pages?|websites?|tags?|"
                           r"elements?|entit(?:y|ies)|escap\w*)\b|网页|标签|前端|超文本|转义", re.I)

# Full-width forms that are the correct punctuation in Chinese text (U+FF01-FF5E otherwise maps to ASCII).
_FULLWIDTH = re.compile("[\uff01-\uff5e]")
_CJK_PUNCT = "，：；！？（）"
_FULLWIDTH_NOT_PUNCT = re.compile("[\uff02-\uff07\uff0a\uff0b\uff0d-\uff19\uff1c-\uff1e\uff20-\uff5e]")  # less _CJK_PUNCT
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_ZERO_WIDTH = re.compile("[\u200b\u2060\ufeff\u180e\u00ad]")  # ZWJ/ZWNJ stay: emoji and Indic/Persian need them
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f]")  # U+3000 stays: Chinese indentation
_INDENTED = re.compile(r"^(?: {2,}|\t)\S", re.M)
# [^\S\n]: whitespace within the line (`^\s*` under re.M ran across blank lines from every line start);
# `(?=(...))\1` takes the indentation atomically (3.10 has no `*+`), so `.*` does not retry each split.
_STATEMENT = re.compile(r"^(?=([^\S\n]*))\1(?:def |class |return\b|import |from \S+ import |#include|function\b|public |private |"
                        r"(?:var|let|const) \w|[{}][^\S\n]*$|.*[;{][^\S\n]*$|(?:if|for|while|elif|else|try|except)\b.*:[^\S\n]*$)",
                        re.M)
_SPACE_RUN = re.compile(r"[ \t]{2,}")
# Characters clean_whitespace changes or treats specially: line ends, zero-width and odd spaces, and
# whitespace other than space, tab and newline (so that only those three are left to look for).
_WHITESPACE_RARE = re.compile("[\r\u200b\u2060\ufeff\u180e\u00ad\u00a0\u2000-\u200a\u202f\u205f"
                              "\x0b\x0c\x1c-\x1f\x85\u1680\u2028\u2029\u3000]")
_BLANK_LINES = re.compile(r"\n{3,}")

_PREFIX = re.compile(r"^(?:#{1,4}\s*)?(?:(?:final\s+)?answer|output|response|assistant|答案|回答|输出|回复|答)"
                     r"\s*[:：]\s*", re.I)
_QUOTE_PAIRS = {'"': '"', "“": "”", "「": "」", "『": "』"}

# Character classes whose absence lets a step be skipped, found for a whole block at once.
SUSPECT, LINE_ENDS, FULLWIDTH, WHITESPACE_RARE, MARKUP, CODE = 1, 2, 4, 8, 16, 32
SPACE, CJK, FULLWIDTH_NOT_PUNCT = 64, 128, 256  # read by the compiled scan's two flags
# Flags only the compiled scan computes (kernel.classes); numpy's path sets both (= "may change").
WS_DIRTY = 1 << 12  # whitespace_is_clean(text, rare=False) is False
HALFWIDTH = 1 << 13  # to_halfwidth's early return does not apply
_CLASSES = ((SUSPECT, _FTFY_SUSPECT.pattern), (LINE_ENDS, "\r|" + _ZERO_WIDTH.pattern),
            (FULLWIDTH, _FULLWIDTH.pattern), (WHITESPACE_RARE, _WHITESPACE_RARE.pattern), (MARKUP, "[<&]"),
            (CODE, f"[`~{_MASK_OPEN}]"), (SPACE, r"\s"), (CJK, _CJK_CHAR.pattern),
            (FULLWIDTH_NOT_PUNCT, _FULLWIDTH_NOT_PUNCT.pattern))
_UNKNOWN = -1  # every bit set: nothing known about a text

STEPS = ("nfc", "mojibake", "html", "fullwidth", "whitespace", "t2s", "prefix", "quotes")


def mask_code(text: str) -> tuple[str, list[str]]:
    """Replace code spans by placeholders so prose steps cannot touch them; `unmask_code` undoes it."""
    if _MASK_OPEN in text or ("`" not in text and "~~~" not in text):
        return text, []
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"{_MASK_OPEN}{len(spans) - 1}{_MASK_CLOSE}"

    return _CODE.sub(keep, text), spans


def unmask_code(text: str, spans: list[str]) -> str:
    """Put masked code spans back."""
    return _MASK.sub(lambda m: spans[int(m.group(1))], text) if spans else text


def looks_like_html(text: str) -> bool:
    """True when text holds real HTML tags or entities (not `a <b` comparisons).

    >>> looks_like_html("<p>Hi</p>"), looks_like_html("AT&amp;T"), looks_like_html("if a <b and c> d")
    (True, True, False)
    """
    return ("<" in text and _KNOWN_TAG.search(text) is not None) or ("&" in text and _ENTITY.search(text) is not None)


def clean_html(text: str) -> str:
    """Strip tags (block ends become newlines), drop script/style/comments, unescape entities.

    >>> clean_html("<p>Fish &amp; chips</p><script>x()</script>Yes<br>no")
    'Fish & chips\\n\\nYes\\nno'
    """
    # Each span stops at the next opener of its kind, so unclosed ones cost linear time, not quadratic.
    text = re.sub(r"<!--(?:(?!<!--).)*?-->", "", text, flags=re.S)
    text = re.sub(r"<(script|style)\b[^<>]*>(?:(?!<\1\b).)*?</\1\s*>", "", text, flags=re.S | re.I)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I)
    text = re.sub(r"</p\s*>", "\n\n", text, flags=re.I)
    text = re.sub(r"</(?:div|li|h[1-6]|tr|table|ul|ol|blockquote|pre|section|article)\s*>", "\n", text, flags=re.I)
    text = re.sub(r"<li\b[^<>]*>", "- ", text, flags=re.I)
    text = _ANY_TAG.sub("", text)
    return html.unescape(text)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII to half-width; Chinese punctuation (，：；！？（）) stays on lines with CJK text.

    >>> to_halfwidth("ＧＰＴ－４很强！增长５０％"), to_halfwidth("Ｈｅｌｌｏ，ｗｏｒｌｄ！１，０００")
    ('GPT-4很强！增长50%', 'Hello, world!1,000')
    """
    if not _FULLWIDTH.search(text):
        return text
    # Only Chinese punctuation, on lines with CJK text, is the common case: nothing changes.
    if not _FULLWIDTH_NOT_PUNCT.search(text) and all(
            _CJK_CHAR.search(line) or not _FULLWIDTH.search(line) for line in text.split("\n")):
        return text
    lines = []
    for line in text.split("\n"):
        keep = _CJK_PUNCT if cjk_count(line) else ""
        chars = []
        for i, ch in enumerate(line):
            if "\uff01" <= ch <= "\uff5e" and ch not in keep:
                ch = chr(ord(ch) - 0xFEE0)
                # A full-width comma carries its own gap; "Adam，Joe" should read "Adam, Joe", not "Adam,Joe".
                if ch in ",:;!?" and i + 1 < len(line) and line[i + 1].isalpha():
                    ch += " "
            chars.append(ch)
        lines.append("".join(chars))
    return "\n".join(lines)


def clean_whitespace(text: str, rare: bool = True) -> str:
    """Unify line ends, drop zero-width chars, collapse inner space runs, keep indentation, <= 1 blank line.

    Text that looks like unfenced code only loses trailing spaces: its alignment and blank lines are content.

    >>> clean_whitespace("  a   b \\r\\n\\n\\n\\n  - c\\u200b ")
    'a b\\n\\n  - c'
    """
    if whitespace_is_clean(text, rare):
        return text  # _clean_whitespace would not change it; most texts end here
    return _clean_whitespace(text, rare)


def _clean_whitespace(text: str, rare: bool = True) -> str:
    if rare:  # else no line end, zero-width or odd space (all _WHITESPACE_RARE) is there to replace
        text = _ODD_SPACE.sub(" ", _line_ends_and_zero_width(text))
    if _looks_like_code(text):
        return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    lines = []
    for line in text.split("\n"):
        body = line.lstrip(" \t")
        indent = line[: len(line) - len(body)]
        if "  " in body or "\t" in body:  # else _SPACE_RUN ([ \t]{2,}) finds nothing
            body = _SPACE_RUN.sub(" ", body)
        body = body.rstrip()
        lines.append(indent + body if body else "")
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def whitespace_is_clean(text: str, rare: bool = True) -> bool:
    """True when `clean_whitespace` would surely return `text` unchanged (substring tests, no line loop).

    Sound, not complete: a tab or an indented line takes the full path even when nothing changes.
    `rare=False` says the text is known to hold no `_WHITESPACE_RARE` character.
    """
    if not text:
        return True
    return not (text[0].isspace() or text[-1].isspace() or "  " in text or "\t" in text or " \n" in text
                or "\n\n\n" in text or (rare and _WHITESPACE_RARE.search(text)))


def _looks_like_code(text: str) -> bool:
    """Unfenced source code: several indented lines and at least one line shaped like a statement."""
    return len(_INDENTED.findall(text)) >= 2 and _STATEMENT.search(text) is not None


def strip_prefix(text: str) -> str:
    """Drop an "Answer:" / "Output:" / "答案：" style label at the start of an output.

    >>> strip_prefix("Answer: 42"), strip_prefix("输出： 你好"), strip_prefix("A: yes")
    ('42', '你好', 'A: yes')
    """
    match = _PREFIX.match(text)
    return text[match.end():] if match and text[match.end():].strip() else text


def strip_wrapping_quotes(text: str) -> str:
    """Remove one pair of quotes around the whole text, unless the quote also occurs inside.

    >>> strip_wrapping_quotes('“你好”'), strip_wrapping_quotes('"a" and "b"')
    ('你好', '"a" and "b"')
    """
    if len(text) < 3 or text[0] not in _QUOTE_PAIRS or text[-1] != _QUOTE_PAIRS[text[0]]:
        return text
    inner = text[1:-1]
    if text[0] in inner or text[-1] in inner or not inner.strip():
        return text
    return inner.strip()


@cache
def _t2s() -> Callable[[str], str]:
    from opencc import OpenCC

    return OpenCC("t2s").convert


def traditional_to_simplified(text: str) -> str:
    """Traditional to Simplified Chinese with OpenCC's t2s table.

    >>> traditional_to_simplified("這是繁體中文")
    '这是繁体中文'
    """
    return _t2s()(text)


class Normalizer:
    """The normalise stage's function: a normalised copy of a record; `changes` counts steps that fired."""

    def __init__(self, config: NormalizeConfig | None = None):
        self.config = config or NormalizeConfig()
        self.changes: Counter[str] = Counter()
        self.classes: dict[str, int] = {}  # text -> classes present in it, for the current block
        self.compiled: bool | None = None  # count classes with numba: see blockstats.use_kernel
        self._counted = 0

    def load_block(self, records: list[Record]) -> None:
        """Find which character classes each text of a block holds, so steps can be skipped."""
        found = list(dict.fromkeys(text for record in records for _, _, text in texts(record)))
        self._counted += len(found)
        table = class_table(_CLASSES)
        if use_kernel(self.compiled, self._counted):
            present = kernel.classes(found, table, SPACE, CJK, FULLWIDTH, FULLWIDTH_NOT_PUNCT, WS_DIRTY, HALFWIDTH)
        else:
            present = [bits | WS_DIRTY | HALFWIDTH for bits in classes_present(found, table)]
        self.classes = dict(zip(found, present, strict=True))

    def __call__(self, record: Record) -> Record:
        fired: set[str] = set()
        # Whether the record is about markup matters only where some text could look like HTML:
        # asked once, for the first text holding "<" or "&" (a text without either never does).
        about: list[bool] = []

        def markup_ok() -> bool:
            if not about:
                about.append(self.config.html and (not _may_hold_markup(record) or not _about_markup(record)))
            return about[0]

        def turn(role: str, field: str, text: str) -> str:
            if role in TOOL_ROLES:
                return text  # tool-call arguments, observations and tool lists are JSON: left as they are
            classes = self.classes.get(text)
            html = self.config.html if classes is not None and not classes & MARKUP else markup_ok()
            # chosen/rejected are answers: labels and wrapping quotes go as from `output`.
            return self.text(text, fired, html=html, field="output" if field in PREFERENCE_FIELDS else field,
                             classes=classes)

        out = map_texts(record, turn)
        if fired:
            self.changes.update(fired)
        return out

    def text(self, text: str, fired: set[str] | None = None, *, html: bool = True, field: str = "",
             classes: int | None = None) -> str:
        """Normalise one string; `field` "output" also strips answer labels.

        `classes` (from `load_block`) says which character classes `text` holds; while no step has
        changed the text, a step whose class is absent is skipped (it would change nothing).
        """
        cfg = self.config
        fired = fired if fired is not None else set()
        # What is known of the text; a step that changes it makes it unknown again. Masking code
        # only removes characters and adds noncharacters and digits: absent classes stay absent.
        known = _UNKNOWN if classes is None else classes
        if known & SUSPECT:  # without such characters the text is NFC and ftfy leaves it alone
            if (fixed := unicodedata.normalize("NFC", text)) != text:
                fired.add("nfc")
                text, known = fixed, _UNKNOWN
            if cfg.fix_mojibake and (fixed := fix_mojibake(text)) != text:
                fired.add("mojibake")
                text, known = fixed, _UNKNOWN
        # Line ends and zero-width characters are wrong in code too; the rest spares code.
        if cfg.whitespace and known & LINE_ENDS and (fixed := _line_ends_and_zero_width(text)) != text:
            fired.add("whitespace")
            text, known = fixed, _UNKNOWN
        masked, spans = mask_code(text) if known & CODE else (text, [])
        if spans:
            known |= WS_DIRTY | HALFWIDTH  # found on the whole text, not on its prose
        if html and cfg.html and known & MARKUP and looks_like_html(masked) \
                and (fixed := clean_html(masked)) != masked:
            fired.add("html")
            masked, known = fixed, _UNKNOWN
        if cfg.fullwidth and known & FULLWIDTH and known & HALFWIDTH and (fixed := to_halfwidth(masked)) != masked:
            fired.add("fullwidth")
            masked, known = fixed, _UNKNOWN
        if cfg.t2s and (fixed := traditional_to_simplified(masked)) != masked:
            fired.add("t2s")
            masked, known = fixed, _UNKNOWN
        if cfg.whitespace and known & (WS_DIRTY | WHITESPACE_RARE) \
                and (fixed := clean_whitespace(masked, bool(known & WHITESPACE_RARE))) != masked:
            fired.add("whitespace")
            masked = fixed
        text = unmask_code(masked, spans)
        if cfg.strip_prefixes and field == "output" and (fixed := strip_prefix(text)) != text:
            fired.add("prefix")
            text = fixed
        if cfg.strip_quotes and field in ("instruction", "input", "output") \
                and (fixed := strip_wrapping_quotes(text)) != text:
            fired.add("quotes")
            text = fixed
        return text


def _line_ends_and_zero_width(text: str) -> str:
    return _ZERO_WIDTH.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _may_hold_markup(record: Record) -> bool:
    """False when no "<" or "&" occurs anywhere in the record: then looks_like_html is False for every text."""
    raw = orjson.dumps(record, default=str)
    return b"<" in raw or b"&" in raw


def _about_markup(record: Record) -> bool:
    """True when the record asks about HTML/XML or answers with a whole page: its tags are content."""
    view = record if record_format(record) == "alpaca" else alpaca_view(record)
    prompt = " ".join(v for v in (view.get("instruction"), view.get("input")) if isinstance(v, str))
    output = view.get("output")
    if isinstance(output, str) and re.search(r"<!doctype|<html\b", output, re.I):
        return True
    return bool(_ABOUT_MARKUP.search(prompt))
