"""N-gram retrieval and matched-fraction scoring of training text against eval items.

The recipe of GPT-3 (13-gram collisions) for finding candidates, then Cosmopedia's check
(after Phi-1): diff the eval item against the training text with `difflib.SequenceMatcher` and
call it contaminated when the matched substrings cover at least `threshold` of the eval item.
Tokens are words for space-separated text and single characters for CJK, after dedupe's
normalisation (NFKC, casefold, punctuation dropped), so case and punctuation edits do not hide
an item.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from datacraft.dedupe.normalize import normalize
from datacraft.dedupe.shingles import CJK_START

_TOKEN = re.compile(r"[\u2e80-\U0010ffff]|[^\x00-\x20_\u2e80-\U0010ffff]+")
MIN_BLOCK = 3  # matched runs shorter than this (a shared "the", one common character) do not count
MAX_CANDIDATES = 5  # eval views diffed per training record, most n-gram hits first


def tokens(text: str) -> list[str]:
    """Normalised tokens: words, or single characters for CJK.

    >>> tokens("The Cat, sat!"), tokens("机器学习")
    (['the', 'cat', 'sat'], ['机', '器', '学', '习'])
    """
    return _TOKEN.findall(normalize(text))


def is_cjk_tokens(toks: Sequence[str]) -> bool:
    """True when at least half the tokens are CJK characters."""
    cjk = sum(1 for t in toks if ord(t[0]) >= CJK_START)
    return bool(toks) and 2 * cjk >= len(toks)


def join_tokens(toks: Sequence[str]) -> str:
    """Tokens back to readable text: CJK characters without spaces.

    >>> join_tokens(["机", "器", "lora"]), join_tokens(["a", "b"])
    ('机器 lora', 'a b')
    """
    out = ""
    for tok in toks:
        if out and not (ord(tok[0]) >= CJK_START and ord(out[-1]) >= CJK_START):
            out += " "
        out += tok
    return out


@dataclass
class View:
    """One text of an eval item as it is matched: the item itself or one of its translations."""

    benchmark: str
    item: str  # the eval item's id
    lang: str  # language of this text
    tokens: list[str]
    translated: bool = False
    text: str = ""


@dataclass
class Match:
    """The best overlap of one training text with one eval view."""

    view: View
    fraction: float  # share of the eval view's tokens inside matched runs
    span: str  # the longest matched run, as text
    method: str = "ngram"  # how the candidate was found: ngram, words (rare-word containment), prompt, judge
    matched: int = 0  # eval tokens inside matched runs


@dataclass
class NgramIndex:
    """Eval views by their n-grams; a view shorter than n is indexed as one gram of all its tokens."""

    ngram_word: int = 13
    ngram_cjk: int = 13
    views: list[View] = field(default_factory=list)
    _grams: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _lengths: set[int] = field(default_factory=set)

    def n_for(self, toks: Sequence[str]) -> int:
        return self.ngram_cjk if is_cjk_tokens(toks) else self.ngram_word

    def add(self, view: View, n: int | None = None) -> None:
        """Index a view by its n-grams (`n` overrides the size chosen from its script)."""
        if not view.tokens:
            return
        index = len(self.views)
        self.views.append(view)
        n = min(n or self.n_for(view.tokens), len(view.tokens))
        self._lengths.add(n)
        for gram in {hash(tuple(view.tokens[i:i + n])) for i in range(len(view.tokens) - n + 1)}:
            self._grams[gram].append(index)

    def hits(self, toks: Sequence[str]) -> dict[int, list[int]]:
        """View index -> token positions in `toks` where one of its n-grams starts."""
        found: dict[int, list[int]] = defaultdict(list)
        grams = self._grams
        for n in self._lengths:
            for i in range(len(toks) - n + 1):
                for view in grams.get(hash(tuple(toks[i:i + n])), ()):
                    found[view].append(i)
        return found

    def best(self, toks: Sequence[str]) -> Match | None:
        """The highest-scoring view among those sharing an n-gram with `toks`."""
        found = self.hits(toks)
        ranked = sorted(found.items(), key=lambda kv: -len(kv[1]))[:MAX_CANDIDATES]
        best: Match | None = None
        for index, positions in ranked:
            view = self.views[index]
            match = best_window(view, toks, positions)
            if best is None or match.fraction > best.fraction:
                best = match
        return best


def dynamic_n(lengths: Sequence[int], largest: int, smallest: int = 8) -> int:
    """GPT-3's per-benchmark n: the 5th-percentile item length, clamped to [smallest, largest].

    >>> dynamic_n([30, 40, 50], 13), dynamic_n([5, 6, 40, 50], 13), dynamic_n([], 13)
    (13, 8, 13)
    """
    if not lengths:
        return largest
    ordered = sorted(lengths)
    p5 = ordered[int(0.05 * (len(ordered) - 1))]
    return max(min(p5, largest), min(smallest, largest))


def score(view: View, toks: Sequence[str]) -> Match:
    """Matched fraction of `view` inside `toks`, and its longest matched run.

    >>> v = View("b", "1", "en", tokens("the quick brown fox jumps over the lazy dog"))
    >>> m = score(v, tokens("Yesterday the quick brown fox jumped over the lazy dog twice"))
    >>> round(m.fraction, 2), m.span
    (0.89, 'the quick brown fox')
    """
    matcher = SequenceMatcher(None, view.tokens, list(toks), autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= min(MIN_BLOCK, len(view.tokens))]
    if not blocks:
        return Match(view, 0.0, "")
    longest = max(blocks, key=lambda b: b.size)
    matched = sum(b.size for b in blocks)
    return Match(view, matched / len(view.tokens), join_tokens(view.tokens[longest.a:longest.a + longest.size]),
                 matched=matched)


def best_window(view: View, toks: Sequence[str], starts: Iterable[int] | None = None) -> Match:
    """The best `score` of `view` in a window of about twice its length around each start.

    A diff against a whole long text would assemble an item from pieces scattered over pages; a
    copy sits in one place. `starts` are n-gram hit positions; by default windows slide over all.

    >>> v = View("b", "1", "en", tokens("name the largest planet in our solar system please"))
    >>> far = tokens("name the largest " + "filler " * 50 + "planet in our " + "filler " * 50 + "solar system please")
    >>> round(best_window(v, far).fraction, 2), score(v, far).fraction
    (0.33, 1.0)
    """
    size = len(view.tokens)
    if len(toks) <= 3 * size:
        return score(view, toks)
    starts = range(0, len(toks), max(1, size // 2)) if starts is None else sorted(set(starts))
    best, last = Match(view, 0.0, ""), None
    for start in starts:
        if last is not None and start - last < max(1, size // 2):
            continue  # this window is nearly the one just scored
        last = start
        match = score(view, toks[max(0, start - size):start + 2 * size])
        if match.fraction > best.fraction:
            best = match
    return best


def features(toks: Sequence[str]) -> set[str]:
    """Bag-of-words features: words, and character bigrams for CJK runs."""
    out = {t for t in toks if ord(t[0]) < CJK_START}
    cjk = [t for t in toks if ord(t[0]) >= CJK_START]
    out.update(a + b for a, b in zip(cjk, cjk[1:], strict=False))
    return out


class NeighbourIndex:
    """The eval view whose idf-weighted features a training text contains most: judge candidates.

    A stand-in for LMSYS's embedding top-1 search that needs no model: paraphrases keep most rare
    content words, so their weighted containment stays high while n-grams break.
    """

    def __init__(self, views: Iterable[View], max_df: float = 0.05):
        self.views = list(views)
        df: dict[str, int] = defaultdict(int)
        feats = [features(v.tokens) for v in self.views]
        for fs in feats:
            for f in fs:
                df[f] += 1
        n = max(len(self.views), 1)
        limit = max(2, int(max_df * n))
        self.idf = {f: math.log((n + 1) / (d + 0.5)) for f, d in df.items() if d <= limit}
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.mass = []
        for index, fs in enumerate(feats):
            kept = [f for f in fs if f in self.idf]
            self.mass.append(sum(self.idf[f] ** 2 for f in kept))
            for f in kept:
                self.postings[f].append(index)

    def nearest(self, toks: Sequence[str]) -> tuple[View, float] | None:
        """(view, weighted share of its features found in `toks`), or None when nothing is shared."""
        scores: dict[int, float] = defaultdict(float)
        for f in features(toks):
            weight = self.idf.get(f)
            if weight is None:
                continue
            for index in self.postings[f]:
                scores[index] += weight * weight
        if not scores:
            return None
        index, got = max(scores.items(), key=lambda kv: kv[1] / (self.mass[kv[0]] or 1))
        return self.views[index], got / (self.mass[index] or 1)
