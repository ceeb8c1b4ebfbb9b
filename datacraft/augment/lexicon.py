"""The curated synonym pairs and protected terms that ship in `datacraft/augment/data/`, and users' own.

A pair file is TSV: `word<TAB>replacement|replacement<TAB>rules`, `#` starts a comment. Rules,
joined by `;`: `-` anywhere; `start` only as the first word of a sentence; `n` (Chinese nouns)
neither neighbouring word is a noun, `v` (verbs) the word before is not a noun, `a` (adjectives)
the word after is not a noun, which is how compounds (科学方法, 语音识别, 重要人物) stay whole;
`next=REGEX` the text right after the word must match (`re.match`), `prev=REGEX` the text
before it (`re.search`, so anchor it with `$`). A term file has one term per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from datacraft.errors import ConfigError

DATA = Path(__file__).resolve().parent / "data"
_NEIGHBOUR_RULES = frozenset({"n", "v", "a"})


@dataclass(frozen=True)
class Pair:
    """One word, what it may become, and the context it must be in."""

    word: str
    replacements: tuple[str, ...]
    start: bool = False  # only as the first word of a sentence
    neighbours: str = ""  # "n", "v" or "a": the compound check for Chinese (module docstring)
    after: re.Pattern[str] | None = None  # the text after the word must match
    before: re.Pattern[str] | None = None  # the text before the word must match (at its end)

    def fits(self, before: str, after: str) -> bool:
        """Whether the text around the word satisfies `prev=` and `next=`."""
        return ((self.after is None or self.after.match(after) is not None)
                and (self.before is None or self.before.search(before) is not None))


Pairs = dict[str, tuple[Pair, ...]]


def parse_pairs(text: str, where: str) -> Pairs:
    """Pairs from TSV text, keyed by word (lower-cased), in file order (the first that fits applies).

    A word may have several lines, each with its own rules; a malformed line is a ConfigError naming it.

    >>> parse_pairs("例如\\t比如\\t-\\nlist\\tname\\tstart;next=^\\\\s+\\\\d", "x")["list"][0].start
    True
    """
    pairs: dict[str, tuple[Pair, ...]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) not in (2, 3) or not cells[0].strip() or not cells[1].strip():
            raise ConfigError(f"{where}:{number}: expected word<TAB>replacement[|replacement]<TAB>rules")
        word = cells[0].strip()
        options = tuple(r.strip() for r in cells[1].split("|") if r.strip() and r.strip() != word)
        start, neighbours, after, before = False, "", None, None
        for rule in _rules(cells[2] if len(cells) == 3 else "-"):
            rule = rule.strip()
            if rule in ("-", ""):
                continue
            if rule == "start":
                start = True
            elif rule in _NEIGHBOUR_RULES:
                neighbours = rule
            elif rule.startswith(("next=", "prev=")):
                try:
                    pattern = re.compile(rule[5:])
                except re.error as exc:
                    raise ConfigError(f"{where}:{number}: bad {rule[:5]} pattern: {exc}") from None
                if rule.startswith("next="):
                    after = pattern
                else:
                    before = pattern
            else:
                raise ConfigError(f"{where}:{number}: unknown rule {rule!r} (use -, start, n, v, a, prev=REGEX or next=REGEX)")
        if options:
            key = word.lower()
            pairs[key] = pairs.get(key, ()) + (Pair(key, options, start, neighbours, after, before),)
    return pairs


def _rules(cell: str) -> list[str]:
    """The rules of a cell, split at `;` followed by a rule name (a pattern may hold `;` itself).

    >>> _rules("start;prev=(?:^|;)$;next=^[,;]")
    ['start', 'prev=(?:^|;)$', 'next=^[,;]']
    """
    return [rule for rule in re.split(r";(?=(?:-|start|n|v|a|next=.*|prev=.*)(?:;|$|=))", cell) if rule.strip()]


def parse_terms(text: str) -> list[str]:
    """Terms from a term file: one per line, `#` comments; a jieba user-dict line keeps its first field.

    >>> parse_terms("# x\\n监督学习 5 n\\npoint of view\\n")
    ['监督学习', 'point of view']
    """
    terms = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        # jieba's user dictionary format is "word [freq] [tag]"; an English phrase has no number after it.
        if len(parts) > 1 and re.search(r"[\u4e00-\u9fff]", parts[0]) and (parts[1].isdigit() or len(parts) == 2):
            line = parts[0]
        terms.append(line)
    return terms


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__}); give a UTF-8 text file") from None


@cache
def bundled_pairs(lang: str) -> Pairs:
    """The shipped pairs for "zh" or "en"."""
    path = DATA / f"safe_pairs_{lang}.tsv"
    return parse_pairs(_read(path), str(path))


@cache
def bundled_terms(lang: str) -> tuple[str, ...]:
    """The shipped protected terms for "zh" or "en"."""
    return tuple(parse_terms(_read(DATA / f"terms_{lang}.txt")))


def load_pairs(lang: str, extra: str | None = None) -> Pairs:
    """The shipped pairs, with a user's pair file added on top (its lines for a word replace the shipped ones)."""
    pairs = dict(bundled_pairs(lang))
    if extra:
        for word, entries in parse_pairs(_read(extra), extra).items():
            if _is_chinese(word) == (lang == "zh"):
                pairs[word] = entries
    return pairs


def load_terms(lang: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The shipped terms plus those of the user's term files, for one language."""
    terms = list(bundled_terms(lang))
    for path in extra:
        terms.extend(t for t in parse_terms(_read(path)) if _is_chinese(t) == (lang == "zh"))
    return list(dict.fromkeys(terms))


def _is_chinese(word: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", word) is not None
