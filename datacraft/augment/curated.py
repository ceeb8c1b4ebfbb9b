"""Synonym replacement from a curated allow-list of pairs, with term protection: the default `synonym` method.

A thesaurus group lists words that share *a* sense, not words that can stand in for each other
in a sentence (数据 -> 数目, identify -> place). Here a word is replaced only by a partner from
`data/safe_pairs_{zh,en}.tsv`, pairs read one by one for instruction data, and only in the
context its rules allow (lexicon.py). On top of that, whatever the pair:
- protected spans stay (code, URLs, numbers, placeholders, formulas, quotes, 《titles》);
- terms stay whole: jieba segments with the domain dictionary (`data/terms_zh.txt` plus the
  user's `synonym.terms` files) so 数据科学家 is one token, and English term phrases (point of
  view, status quo, machine learning) are skipped; named entities are never in the list;
- a word the instruction quotes, and every word of an answer that is itself a word list (a list
  of synonyms, of keywords), is left alone in the whole record;
- a replacement that would double a character with its neighbour (象征着 -> 意味着着) is skipped;
- one word gets one replacement, everywhere in the record (instruction, input and output alike),
  or none: a word with one occurrence its rules forbid is left alone in all of them.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from datacraft.augment.lexicon import Pair, Pairs, load_pairs, load_terms
from datacraft.augment.protect import segments
from datacraft.augment.script import HANS, HANT, chinese_script, to_script
from datacraft.augment.segment_zh import Segmenter
from datacraft.augment.synonyms_en import fix_article

# A quote also stops at the next opening mark: an unclosed “ must not scan the line from every “ (quadratic).
_QUOTED = re.compile(r"“([^“”\n]*)”|「([^「」\n]*)」|『([^『』\n]*)』|《([^《》\n]*)》|\"([^\"\n]*)\"|‘([^‘’\n]*)’"
                     r"|(?<![A-Za-z])'([^'\n]{1,80})'(?![A-Za-z])")
_LIST_SPLIT = re.compile(r"[、,，;；/\n]+")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)、]|[a-zA-Z][.)])\s*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;。！？：；\n]\s*|[\"“(（]\s*|(?:^|\n)\s*(?:[-*•]|\d+[.)])\s*|(?:^|[。！？\n])请)$")
_WORDISH = re.compile(r"[^\W_]")
_EN_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")


@dataclass
class Slot:
    """One replaceable occurrence: where it is, which pair applies."""

    field: str
    start: int
    end: int
    pair: Pair
    surface: str


def is_word_list(text: str) -> bool:
    """True when `text` is a list of 3+ short items (words or short phrases), not prose.

    >>> is_word_list("愉快、开心、高兴"), is_word_list("glad, joyful, cheerful, merry"), is_word_list("I am glad, truly.")
    (True, True, False)
    """
    items = [_BULLET.sub("", item).strip(" .。!！") for item in _LIST_SPLIT.split(text.strip())]
    items = [item for item in items if item]
    if len(items) < 3:
        return False
    for item in items:
        if re.search(r"[\u4e00-\u9fff]", item):
            if len(item) > 8 or re.search(r"[，。！？,]", item):
                return False
        elif len(item.split()) > 3:
            return False
    return True


def protected_text(record: dict, fields: list[str] | tuple[str, ...]) -> str:
    """What no replacement may touch in this record: the instruction's quoted spans and word-list fields.

    >>> protected_text({"instruction": '给出"快乐"的同义词', "output": "愉快、开心、高兴"}, ["instruction", "output"])
    '快乐\\n愉快、开心、高兴'
    """
    parts = []
    instruction = record.get("instruction")
    if isinstance(instruction, str):
        parts.extend(next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(instruction))
    for name in fields:
        value = record.get(name)
        if name != "instruction" and isinstance(value, str) and is_word_list(value):
            parts.append(value)
    return "\n".join(part for part in parts if part.strip())


class CuratedChinese:
    """Slots for Chinese text: jieba (with the domain terms) tokens that are allow-listed words in context."""

    def __init__(self, pairs: Pairs | None = None, terms: list[str] | None = None,
                 word_tags: dict[str, str] | None = None, segmenter: Segmenter | None = None):
        self.pairs = load_pairs("zh") if pairs is None else pairs
        self.terms = frozenset(load_terms("zh") if terms is None else terms)
        if word_tags is None:
            import jieba.posseg

            word_tags = jieba.posseg.dt.word_tag_tab
        self.word_tags = word_tags
        self.segmenter = segmenter or Segmenter()
        self.segmenter.add_words(self.terms)

    def words(self, text: str) -> int:
        """How many words `text` has (the base of `ratio`)."""
        return sum(1 for token in self.segmenter.cut(text) if _WORDISH.match(token))

    def slots(self, field: str, text: str, seen: Counter[str] | None = None) -> list[Slot]:
        """The replaceable occurrences in one field's text; `seen` counts every occurrence of a listed word."""
        return self.scan(field, text, seen)[0]

    def scan(self, field: str, text: str, seen: Counter[str] | None = None) -> tuple[list[Slot], int]:
        """(slots, words outside protected spans): one segmentation serves both."""
        script = chinese_script(text)
        found: list[Slot] = []
        words = 0
        offset = 0
        for piece, protected in segments(text):
            if not protected:
                words += self._piece_slots(field, text, piece, offset, script, seen, found)
            offset += len(piece)
        return found, words

    def _piece_slots(self, field: str, text: str, piece: str, offset: int, script: str,
                     seen: Counter[str] | None, found: list[Slot]) -> int:
        simplified = piece if script == HANS else to_script(piece, HANS)
        if len(simplified) != len(piece):
            simplified, script = piece, HANS  # a phrase conversion changed the length: look up as written
        tokens = self.segmenter.cut(simplified)
        position = offset
        for index, token in enumerate(tokens):
            start, position = position, position + len(token)
            entries = self.pairs.get(token)
            if entries is None:
                continue
            if seen is not None:
                seen[token] += 1
            before = tokens[index - 1] if index else ""
            after = tokens[index + 1] if index + 1 < len(tokens) else ""
            context = (_head(text, start), text[position:position + _CONTEXT])
            if script == HANT:
                context = (to_script(context[0], HANS), to_script(context[1], HANS))
            pair = next((p for p in entries if self._fits(p, before, after, *context)), None)
            if pair is not None and not _repeats(pair, text, start, position):
                found.append(Slot(field, start, position, pair, text[start:position]))
        return sum(1 for token in tokens if _WORDISH.match(token))

    def _fits(self, pair: Pair, before: str, after: str, head: str, rest: str) -> bool:
        if not pair.fits(head, rest) or (pair.start and _SENTENCE_START.search(head) is None):
            return False
        if pair.neighbours in ("n", "v") and self._nounish(before):
            return False
        if pair.neighbours in ("n", "a") and self._nounish(after):
            return False
        # A replacement ending (or starting) with the character next to it reads as a stutter: 意味着着.
        return not any((r[-1:] == after[:1] != pair.word[-1:]) or (r[:1] == before[-1:] != pair.word[:1])
                       for r in pair.replacements if after or before)

    def _nounish(self, token: str) -> bool:
        if not token or not _WORDISH.match(token):
            return False
        if token in self.terms or token.isascii():
            return True
        tag = self.word_tags.get(token, "")
        return tag.startswith("n") or tag in ("vn", "an")


class CuratedEnglish:
    """Slots for English text: allow-listed words and phrases, outside term phrases and names."""

    def __init__(self, pairs: Pairs | None = None, terms: list[str] | None = None):
        self.pairs = load_pairs("en") if pairs is None else pairs
        terms = load_terms("en") if terms is None else terms
        self.terms = _phrases(terms)
        self.keys = _phrases(list(self.pairs))

    def words(self, text: str) -> int:
        """How many words `text` has (the base of `ratio`)."""
        return len(_EN_WORD.findall(text))

    def scan(self, field: str, text: str, seen: Counter[str] | None = None) -> tuple[list[Slot], int]:
        """(slots, words)."""
        return self.slots(field, text, seen), self.words(text)

    def slots(self, field: str, text: str, seen: Counter[str] | None = None) -> list[Slot]:
        """The replaceable occurrences in one field's text; `seen` counts every occurrence of a listed word."""
        if self.keys is None:
            return []
        blocked = [m.span() for m in self.terms.finditer(text)] if self.terms is not None else []
        found: list[Slot] = []
        offset = 0
        for piece, protected in segments(text):
            if not protected:
                for match in self.keys.finditer(piece):
                    start, end = offset + match.start(), offset + match.end()
                    if seen is not None:
                        seen[re.sub(r"\s+", " ", match.group().lower())] += 1
                    if any(a < end and start < b for a, b in blocked):
                        continue
                    slot = self._slot(field, text, start, end)
                    if slot is not None:
                        found.append(slot)
            offset += len(piece)
        return found

    def _slot(self, field: str, text: str, start: int, end: int) -> Slot | None:
        surface = text[start:end]
        if len(surface) > 1 and surface.isupper():
            return None  # an acronym or shouting
        head = _head(text, start)
        at_start = _SENTENCE_START.search(head) is not None
        if surface[0].isupper() and not at_start:
            return None  # a capitalised word inside a sentence is a name or a title
        for pair in self.pairs[re.sub(r"\s+", " ", surface.lower())]:
            if (at_start or not pair.start) and pair.fits(head, text[end:end + _CONTEXT]) and not _repeats(pair, text, start, end):
                return Slot(field, start, end, pair, surface)
        return None


_CLAUSE_END = re.compile(r"[.!?;。！？；\n]")
_CONTEXT = 200  # characters either side that rules and the sentence checks look at


def _head(text: str, start: int) -> str:
    """The text before `start`, at most _CONTEXT characters; a cut head starts with \0 so `^` cannot match it."""
    return text[:start] if start <= _CONTEXT else "\0" + text[start - _CONTEXT:start]


def _repeats(pair: Pair, text: str, start: int, end: int) -> bool:
    """True when a replacement is already in the word's sentence (比较和对比 -> 对比和对比, the needed ... needed).

    >>> _repeats(Pair("比较", ("对比",)), "比较和对比苹果。", 0, 2), _repeats(Pair("比较", ("对比",)), "比较苹果。对比", 0, 2)
    (True, False)
    """
    low = max(0, start - _CONTEXT)
    ends = [m.end() for m in _CLAUSE_END.finditer(text, low, start)]
    stop = _CLAUSE_END.search(text, end, end + _CONTEXT)
    sentence = (text[ends[-1] if ends else low:start] + " " + text[end:stop.start() if stop else end + _CONTEXT]).lower()
    return any(_is_protected(r, sentence) for r in pair.replacements)


def _phrases(items: list[str]) -> re.Pattern[str] | None:
    if not items:
        return None
    alternatives = "|".join(re.escape(item).replace(r"\ ", r"\s+") for item in sorted(items, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])", re.IGNORECASE)


class CuratedSynonyms:
    """`rewrite(texts, langs, rng, ratio, protected)`: one replacement per chosen word, everywhere in the record."""

    def __init__(self, chinese: CuratedChinese | None = None, english: CuratedEnglish | None = None,
                 terms: list[str] | tuple[str, ...] = (), pairs: str | None = None):
        self._chinese, self._english = chinese, english
        self._terms, self._pairs = list(terms), pairs

    @property
    def chinese(self) -> CuratedChinese:
        if self._chinese is None:
            self._chinese = CuratedChinese(load_pairs("zh", self._pairs), load_terms("zh", self._terms))
        return self._chinese

    @property
    def english(self) -> CuratedEnglish:
        if self._english is None:
            self._english = CuratedEnglish(load_pairs("en", self._pairs), load_terms("en", self._terms))
        return self._english

    def rewrite(self, texts: dict[str, str], langs: dict[str, str], rng: random.Random, ratio: float,
                protected: str = "", max_words: int | None = None) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
        """(changed fields, [(field, word, replacement), ...] in text order); deterministic for a given rng state."""
        slots: list[Slot] = []
        words = 0
        seen: Counter[str] = Counter()
        for name, text in texts.items():
            engine = self.chinese if langs[name] == "zh" else self.english
            found, count = engine.scan(name, text, seen)
            words += count
            slots.extend(s for s in found if not _is_protected(s.surface, protected))
        # All or nothing: a word is replaced only when every occurrence in the record may be, by the same pair.
        pairs_of: dict[str, set[Pair]] = {}
        for slot in slots:
            pairs_of.setdefault(slot.pair.word, set()).add(slot.pair)
        counts = Counter(slot.pair.word for slot in slots)
        slots = [s for s in slots if counts[s.pair.word] == seen[s.pair.word] and len(pairs_of[s.pair.word]) == 1]
        keys = list(dict.fromkeys(slot.pair for slot in slots))
        if not keys:
            return {}, []
        count = min(len(keys), max(1, round(ratio * words)), max_words or len(keys))
        picked = rng.sample(keys, count)
        # The first field (the instruction) is reworded whenever it can be: a new prompt is what a copy adds most.
        first = [key for key in dict.fromkeys(s.pair for s in slots if s.field == next(iter(texts)))]
        if first and not set(first) & set(picked):
            picked[-1] = rng.choice(first)
        chosen = {key: rng.choice(key.replacements) for key in picked}
        changed: dict[str, str] = {}
        pairs: list[tuple[str, str, str]] = []
        for name, text in texts.items():
            mine = sorted((s for s in slots if s.field == name and s.pair in chosen), key=lambda s: s.start, reverse=True)
            if not mine:
                continue
            script = chinese_script(text) if langs[name] == "zh" else HANS
            done: list[tuple[str, str, str]] = []
            for slot in mine:
                replacement = chosen[slot.pair]
                if langs[name] == "zh" and script == HANT:
                    replacement = to_script(replacement, HANT)
                text, replacement = _put(text, slot, replacement)
                done.append((name, slot.surface, replacement))
            changed[name] = text
            pairs.extend(reversed(done))
        return changed, pairs


@cache
def default_curated() -> CuratedSynonyms:
    """One shared instance with the shipped pairs and terms (building the segmenter takes about a second)."""
    return CuratedSynonyms()


def _is_protected(surface: str, protected: str) -> bool:
    if not protected:
        return False
    if surface.isascii():
        return re.search(rf"(?<![A-Za-z]){re.escape(surface)}(?![A-Za-z])", protected, re.IGNORECASE) is not None
    return surface in protected or to_script(surface, HANS) in protected


def _put(text: str, slot: Slot, replacement: str) -> tuple[str, str]:
    """`text` with `replacement` at the slot, in the word's case, with a preceding a/an fixed."""
    before = text[:slot.start]
    if slot.surface[:1].isupper():
        replacement = replacement[0].upper() + replacement[1:]
    if replacement[:1].isascii() and replacement[:1].isalpha():
        before = fix_article(before, replacement)
    return before + replacement + text[slot.end:], replacement
