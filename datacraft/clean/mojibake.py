"""Mojibake repair (ftfy), and the exact test that says ftfy would leave a text as it is.

ftfy's cost is its badness regex (`ftfy.badness.BADNESS_RE`, about forty alternatives tried at
every position: 150 µs on a 400-character line with zero-width spaces) and its per-line loop. With
the steps configured here, ftfy changes a text only if: some line is "bad" (the regex matches),
or the text holds a control character it strips, a surrogate or an escape, or it is not NFC. Every
alternative of the regex needs one of a few hundred non-ASCII characters (`_NEEDED`, read from the
regex itself at import), and a match is at most `_WIDTH` characters long, so the regex is only
run in a small window around each such character, on that character's line, as ftfy runs it.
"""

from __future__ import annotations

import re
import unicodedata
from re import _parser

from ftfy import TextFixerConfig, fix_text
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CONTROL_CHARS

from datacraft.textutil import cjk_count

# Quotes, HTML entities, full-width forms and line breaks are each handled by our own step (or kept).
FTFY = TextFixerConfig(unescape_html=False, fix_character_width=False, uncurl_quotes=False,
                       fix_line_breaks=False, fix_latin_ligatures=False, explain=False)
# ftfy puts back a byte A0 that became a space only for a few lead bytes; CJK mojibake such as
# "ä½ å¥½" (你好 read as cp1252, its A0 byte turned into a space) needs the lead bytes E4-E9 too.
_CP1252_TAIL = "".join(sorted({bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0xC0)}))
CJK_A0 = re.compile(f"([\u00e4-\u00e9][{re.escape(_CP1252_TAIL)}]) ")

# Characters ftfy never changes and never reads as a sign of mojibake: printable ASCII, line breaks,
# CJK ideographs, kana (less the combining sound marks), hangul, CJK punctuation (less the combining
# tone marks) and full-width forms. Text made only of these, already NFC, passes ftfy unchanged (its
# badness classes, C1/control/escape fixes and NFC all need another character), so ftfy is skipped.
SUSPECT = re.compile("[^\t\n\r\x20-\x7e\u3000-\u3029\u3030-\u303f\u3040-\u3098\u309b-\u30ff"
                     "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff01-\uff5e]")


def _class_chars(item: tuple) -> set[int] | None:
    """The code points a regex LITERAL or [class] item matches, or None if that is not a plain set."""
    op, arg = item
    if op is _parser.LITERAL:
        return {arg}
    if op is not _parser.IN:
        return None
    chars: set[int] = set()
    for sub, value in arg:
        if sub is _parser.LITERAL:
            chars.add(value)
        elif sub is _parser.RANGE:
            chars.update(range(value[0], value[1] + 1))
        else:
            return None  # NEGATE, CATEGORY (\s, \w): not a short list of characters
    return chars


def needed_chars(pattern: re.Pattern[str]) -> tuple[frozenset[int], int] | None:
    """(characters, width): every match of `pattern` holds one of the characters and is at most
    `width` long. None when some alternative needs no such character (then nothing can be skipped).

    An alternative counts when one of its top-level items is a literal or a class of non-ASCII
    characters only: a match of that alternative then holds one of them.
    """
    if pattern.flags & re.IGNORECASE:
        return None  # a literal would match other characters too
    tree = _parser.parse(pattern.pattern, pattern.flags)
    if len(tree.data) == 1 and tree.data[0][0] is _parser.BRANCH:
        branches = tree.data[0][1][1]
    else:
        branches = [tree.data]
    needed: set[int] = set()
    for branch in branches:
        found = [chars for item in branch if (chars := _class_chars(item)) and min(chars) >= 0x80]
        if not found:
            return None
        for chars in found:
            needed |= chars
    width = tree.getwidth()[1]
    return (frozenset(needed), width) if width < 64 else None


def _class(codes) -> str:
    return "".join(re.escape(chr(c)) for c in sorted(codes))


_BAD = needed_chars(BADNESS_RE)
# ftfy's other fixes act only on these: C1 controls (also badness characters), surrogates,
# terminal escapes, the control characters it strips.
_OTHER = re.compile(f"[\ud800-\udfff\x1b{_class(CONTROL_CHARS)}\x80-\x9f]")
if _BAD is not None:
    _NEEDED = re.compile(f"[{_class(_BAD[0])}]")
    _WIDTH = _BAD[1]


def ftfy_may_change(text: str) -> bool:
    """False when `fix_text(text, FTFY)` surely returns `text` (see the module docstring); else True.

    >>> ftfy_may_change("“Quoted” \\u200b and ★"), ftfy_may_change("donâ€™t")
    (False, True)
    """
    if _BAD is None or len(text) > FTFY.max_decode_length or _OTHER.search(text):
        return True
    if not unicodedata.is_normalized("NFC", text) or CJK_A0.search(text):
        return True  # (CJK_A0: fix_mojibake's own second try)
    line_end = -1  # the current line is text[line_start:line_end + 1], as fix_text cuts it
    line = ""
    for match in _NEEDED.finditer(text):
        at = match.start()
        if at > line_end:
            line_start = text.rfind("\n", 0, at) + 1
            line_end = text.find("\n", at)
            line_end = len(text) - 1 if line_end < 0 else line_end
            line = text[line_start:line_end + 1]
        # A match holding this character lies within _WIDTH of it; pos keeps `^` at the line's start.
        i = at - line_start
        if BADNESS_RE.search(line, max(0, i - _WIDTH + 1), i + _WIDTH):
            return True
    return False


def fix_mojibake(text: str) -> str:
    """Repair text decoded with the wrong codec; leaves correct CJK text and quotes alone.

    >>> fix_mojibake("donâ€™t"), fix_mojibake("ä½ å¥½"), fix_mojibake("你好，世界")
    ('don’t', '你好', '你好，世界')
    """
    if not SUSPECT.search(text) and unicodedata.is_normalized("NFC", text):
        return text  # ftfy would return it unchanged (see SUSPECT); the usual case, a single C-level scan
    if not ftfy_may_change(text):
        return text
    fixed = fix_text(text, FTFY)
    if CJK_A0.search(fixed):
        candidate = fix_text(CJK_A0.sub("\\1\u00a0", fixed), FTFY)
        if cjk_count(candidate) > cjk_count(fixed):
            return candidate
    return fixed
