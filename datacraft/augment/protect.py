"""Spans that augmentation must not touch: code, URLs, numbers, placeholders, formulas (and quotes).

Back-translation masks each span with a sentinel (`⟦1⟧`) before translating and puts the exact
original back afterwards; a sentinel that did not survive both hops means the record is rejected
(`protected_span_lost`), never silently repaired. Synonym replacement works only on the text
between spans, where quoted spans and book titles (“…”, 「…」, 《…》, "…") count as spans too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTINEL = "⟦{}⟧"
_SENTINEL = re.compile(r"⟦\s*(\d+)\s*⟧")

# Order matters: at one position the first alternative wins, so a fence beats inline code and a
# URL beats the number inside it.
_PATTERNS = [
    r"```.*?(?:```|\Z)", r"~~~.*?(?:~~~|\Z)",  # fenced code (an unclosed fence runs to the end)
    r"`[^`\n]+`",  # inline code
    r"\$\$.*?\$\$", r"\\\[(?:(?!\\\[).)*?\\\]", r"\\\((?:(?!\\\().)*?\\\)",  # LaTeX; a span stops at the next opener
    r"\$(?=[^\s$])[^$\n]*?[^\s$\\]\$(?!\d)|\$[^\s$]\$(?!\d)",  # $x^2$ (pandoc's rule: "$5 and $10" is money)
    r"(?:https?|ftp)://[^\s<>\"'，。；！？、）】」]*[^\s<>\"'，。；！？、）】」.,;:!?)]",  # URLs, no trailing punctuation
    r"\bwww\.[^\s<>\"'，。；！？、）】」]*[^\s<>\"'，。；！？、）】」.,;:!?)]",
    r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",  # e-mail addresses (tried at a word's start only)
    r"\{\{[^{}\n]{1,80}\}\}", r"\{[A-Za-z_][A-Za-z0-9_.\[\]]{0,60}\}|\{\d{0,3}\}", r"\$\{[^{}\n]{1,60}\}",  # {{name}}, {name}, ${var}
    r"%(?:\d+\$)?[-+ 0#]*\d*(?:\.\d+)?[sdifx]\b",  # printf placeholders
    r"(?<![A-Za-z0-9_])[A-Za-z_]*\d+(?:[.,:/-]\d+)*[A-Za-z_%]*",  # numbers, dates, versions, H2O, 50%
]
# A quote stops at the next opening mark too: an unclosed “ must not scan to the line end from every “.
_QUOTES = [r"“[^“”\n]*”", r"「[^「」\n]*」", r"『[^『』\n]*』", r"《[^《》\n]*》", r"\"[^\"\n]*\""]
_SPANS = re.compile("|".join(_PATTERNS), re.S)
_SPANS_QUOTES = re.compile("|".join(_PATTERNS + _QUOTES), re.S)


class SpanLost(Exception):
    """A translation dropped, duplicated or invented a sentinel."""


@dataclass
class Masked:
    """Text with each protected span replaced by a sentinel; `spans[i]` is what sentinel i stands for."""

    text: str
    spans: list[str]


def find_spans(text: str, quotes: bool = False) -> list[tuple[int, int]]:
    """(start, end) of every protected span, left to right.

    >>> t = "Run `ls` at {path} on 3 files"
    >>> [t[a:b] for a, b in find_spans(t)]
    ['`ls`', '{path}', '3']
    """
    pattern = _SPANS_QUOTES if quotes else _SPANS
    return [m.span() for m in pattern.finditer(text)]


def segments(text: str, quotes: bool = True) -> list[tuple[str, bool]]:
    """The text cut into (piece, protected) pairs, in order; joining the pieces gives the text back.

    >>> segments('Say "hi" to {name}')
    [('Say ', False), ('"hi"', True), (' to ', False), ('{name}', True)]
    """
    out: list[tuple[str, bool]] = []
    last = 0
    for start, end in find_spans(text, quotes):
        if start > last:
            out.append((text[last:start], False))
        out.append((text[start:end], True))
        last = end
    if last < len(text):
        out.append((text[last:], False))
    return out


def mask(text: str, sentinel: str = SENTINEL) -> Masked:
    """Replace protected spans with numbered sentinels.

    >>> mask("Visit https://x.org in 2024")
    Masked(text='Visit ⟦1⟧ in ⟦2⟧', spans=['https://x.org', '2024'])
    """
    spans: list[str] = []
    pieces: list[str] = []
    for piece, protected in segments(text, quotes=False):
        if protected:
            spans.append(piece)
            pieces.append(sentinel.format(len(spans)))
        else:
            pieces.append(piece)
    return Masked("".join(pieces), spans)


def unmask(text: str, spans: list[str]) -> str:
    """Put the original spans back; SpanLost unless every sentinel occurs exactly once.

    >>> unmask("访问 ⟦1⟧，在 ⟦ 2 ⟧ 年", ["https://x.org", "2024"])
    '访问 https://x.org，在 2024 年'
    """
    found = [int(m.group(1)) for m in _SENTINEL.finditer(text)]
    expected = list(range(1, len(spans) + 1))
    if sorted(found) != expected:
        missing = [spans[i - 1] for i in expected if i not in found]
        if missing:
            raise SpanLost(f"lost {len(missing)} of {len(spans)} protected spans, e.g. {missing[0][:60]!r}")
        raise SpanLost(f"sentinels came back as {sorted(found)}, expected {expected}")
    return _SENTINEL.sub(lambda m: spans[int(m.group(1)) - 1], text)


def has_sentinel_text(text: str) -> bool:
    """True when the source already contains something that looks like a sentinel (it cannot be masked safely)."""
    return _SENTINEL.search(text) is not None
