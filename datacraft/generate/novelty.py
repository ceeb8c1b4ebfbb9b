"""Novelty: reject generated items too close to a seed or to an item accepted earlier.

Two checks, as Self-Instruct and the dedupe module do them:
- ROUGE-L F1 on the task text (instruction + input) against every seed and accepted item that
  could reach the threshold. Tokens (CJK characters, lower-cased words) are mapped to single code
  points so rapidfuzz's bit-parallel Indel distance computes the LCS; `fuzz.ratio` is then exactly
  2*LCS/(m+n). Which stored texts could reach it comes from an inverted index (`candidates`): a
  text sharing too few tokens cannot, so the verdicts are those of a scan of all of them.
- near-duplicate whole records (instruction + input + output) through the dedupe module's
  `NoveltyIndex` (MinHash LSH on 3-shingles), when that module is available. Sketching one text
  at a time is its costly part, so accepted items wait in a small window (up to `WINDOW`) and are
  added in one vectorised batch; until then they are compared by exact Jaccard similarity of the
  same 3-token shingles, which is what the MinHash signature estimates.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from datacraft.records import Record, record_text
from datacraft.textutil import CJK_CLASS

_TOKEN = re.compile(rf"[{CJK_CLASS}]|[^\W_{CJK_CLASS}]+", re.UNICODE)
SIMILAR_TO_SEED = "similar_to_seed"
SIMILAR_TO_EARLIER = "similar_to_earlier"
NEAR_DUPLICATE = "near_duplicate"
WINDOW = 64  # accepted items compared exactly before they join the MinHash index in one batch


class TokenCodec:
    """Maps each distinct token to one character, so a token sequence is a str."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def encode(self, text: str) -> str:
        get, new = self._ids.get, self._new
        return "".join([get(token) or new(token) for token in _TOKEN.findall(text.lower())])

    def _new(self, token: str) -> str:
        point = 0x100 + len(self._ids)
        point += 0x800 if point >= 0xD800 else 0  # skip the surrogate range
        char = self._ids[token] = chr(point % 0x110000)
        return char


def elements(encoded: str) -> list[str]:
    """The tokens of an encoded text as a set: the k-th repeat of a token is its own element.

    Two texts share min(count in one, count in the other) elements per token, their multiset overlap.

    >>> elements("abab")
    ['a', 'b', 'aa', 'bb']
    """
    seen: dict[str, int] = {}
    out = []
    for char in encoded:
        k = seen.get(char, 0) + 1
        seen[char] = k
        out.append(char * k)
    return out


def min_overlap(m: int, threshold: float) -> int:
    """Fewest tokens a text must share with an m-token text for ROUGE-L F1 >= threshold (0: no bound).

    F1 = 2*LCS/(m+n) >= t and LCS <= n give 2*LCS >= t*m + t*LCS, so LCS >= t*m/(2-t); the shared
    tokens (multiset overlap) are at least the LCS. The threshold is lowered by 1e-6 so a score that
    floating point rounds up to the cutoff is still a candidate.

    >>> min_overlap(10, 0.7), min_overlap(3, 0.7), min_overlap(10, 0.0)
    (6, 2, 0)
    """
    t = threshold - 1e-6
    if t <= 0 or m <= 0:
        return 0
    return max(0, math.ceil(t * m / (2 - t)))


def shingles(encoded: str, n: int = 3) -> frozenset[str]:
    """The n-token shingles of an encoded text (the whole text when it is shorter)."""
    if len(encoded) <= n:
        return frozenset([encoded]) if encoded else frozenset()
    return frozenset(encoded[i:i + n] for i in range(len(encoded) - n + 1))


def rouge_l(a: str, b: str, codec: TokenCodec | None = None) -> float:
    """ROUGE-L F1 between two texts over CJK characters and words.

    >>> round(rouge_l("the cat sat on the mat", "the cat lay on the mat"), 3)
    0.833
    """
    codec = codec or TokenCodec()
    return fuzz.ratio(codec.encode(a), codec.encode(b)) / 100


def _near_index(threshold: float | None) -> Any:
    """The dedupe module's incremental MinHash index, or None where it is missing or switched off."""
    if threshold is None:
        return None
    try:
        from datacraft.dedupe import DedupeConfig, NoveltyIndex
    except ImportError:
        return None
    return NoveltyIndex(DedupeConfig(threshold=threshold))


def _query_many(index: Any, texts: list[str], sketch: Any = None) -> tuple[list[tuple[Any, float] | None], Any]:
    """`index.query(text)` for each text, with one sketch for them all; also returns that sketch.

    The same lookup as dedupe's `NoveltyIndex.query` (LSH bands, then signature agreement, ties to
    the earliest item), batched: sketching is most of a query's cost and vectorises over texts.
    The sketch (signatures, band keys, has-shingles per text) is what `add_sketched` indexes, so an
    accepted item is sketched once, not again when it joins the index.
    """
    if not texts:
        return [], None
    sig, bands, has = sketch if sketch is not None else index._sketch(texts)
    found_all: list[tuple[Any, float] | None] = []
    for row in range(len(texts)):
        found: set[int] = set()
        if has[row]:
            for band, value in enumerate(bands[row].tolist()):
                found.update(index._buckets[band].get(value, ()))
        if not found:
            found_all.append(None)
            continue
        rows = np.sort(np.fromiter(found, np.int64, len(found)))
        similarity = np.count_nonzero(index._sigs[rows] == sig[row], axis=1) / index.config.num_perm
        best = int(np.argmax(similarity))
        found_all.append((index._keys[int(rows[best])], float(similarity[best]))
                         if similarity[best] >= index.threshold else None)
    return found_all, (sig, bands, has)


class NoveltyChecker:
    """`check_many(records, keys)` -> (ok, reason, detail) per record, remembering the new ones."""

    def __init__(self, rouge_threshold: float | None = 0.7, near_threshold: float | None = 0.8,
                 fields: tuple[str, ...] = ("instruction", "input")):
        self.rouge_threshold = rouge_threshold
        self.near_threshold = near_threshold
        self.fields = fields
        self.codec = TokenCodec()
        self._texts: list[str] = []  # encoded task text of every seed and accepted item
        self._postings: dict[str, list[int]] = {}  # element (see `elements`) -> the texts holding it, ascending
        # True: no shortcuts (compare with every stored text, encode whole texts anew),
        # what the indexes must agree with
        self.full_scan = False
        self._keys: list[tuple[str, str]] = []  # (kind, key) per text: kind "seed" or "earlier"
        self._near = _near_index(near_threshold)
        self._near_kind: dict[str, str] = {}
        # (shingles, text, key, kind, sketch row or None) of accepted items not indexed yet
        self._recent: list[tuple[frozenset[str], str, str, str, Any]] = []

    def add_many(self, records: list[Record], keys: list[str], kind: str = "earlier") -> None:
        """Remember items (seeds: kind="seed") for later checks; one vectorised MinHash pass for them all."""
        for record in records:
            self._store(self.codec.encode(record_text(record, self.fields)))
        self._keys.extend((kind, key) for key in keys)
        if self._near is not None and records:
            self._near.add_many([record_text(r) for r in records], keys)
            self._near_kind.update(dict.fromkeys(keys, kind))

    def add(self, record: Record, key: str, kind: str = "earlier") -> None:
        """Remember one item (or seed)."""
        self.add_many([record], [key], kind)

    def check(self, record: Record) -> tuple[bool, str, str]:
        """Whether `record` is new enough (nothing is remembered); else the reason and what it resembles."""
        return self.check_many([record], add=False)[0]

    def sketch(self, records: list[Record]) -> Any:
        """The MinHash sketch `check_many` needs for these records, or None without a near-duplicate check.

        Pure (it depends on the texts only), so the records of several replies can be sketched in one
        vectorised call (a tenth of the CPU per text of a call per reply) and handed to `check_many`
        in slices (`sketch_rows`).
        """
        if self._near is None or self.near_threshold is None or not records:
            return None
        return self._near._sketch([record_text(record) for record in records])

    @staticmethod
    def sketch_rows(sketch: Any, start: int, stop: int) -> Any:
        """The part of a `sketch` that belongs to records start..stop-1."""
        return None if sketch is None else tuple(part[start:stop] for part in sketch)

    def check_many(self, records: list[Record], keys: list[str] | None = None,
                   add: bool = True, sketch: Any = None) -> list[tuple[bool, str, str]]:
        """Check a reply's records in order; with `add`, each new one is remembered before the next is checked.

        `sketch`: what `sketch(records)` returns, when the caller computed it already.

        ROUGE-L is computed only against stored texts that share enough tokens to reach the threshold.
        """
        encoded = [self.codec.encode(record_text(r, self.fields)) for r in records]
        cutoff = self.rouge_threshold * 100 if self.rouge_threshold is not None else None
        best: list[tuple[float, int] | None] = [None] * len(records)
        stored = len(self._texts)
        if cutoff is not None and stored and records:
            for row, text in enumerate(encoded):
                best[row] = self._best_stored(text, cutoff, stored)
        texts = [record_text(record) for record in records]
        # one vectorised MinHash sketch for the whole reply (sketching texts one by one costs 5x the CPU)
        near, sketch = (_query_many(self._near, texts, sketch) if self._near is not None and self.near_threshold is not None
                        else (None, None))
        verdicts = []
        for index in range(len(records)):
            hit = best[index]
            if cutoff is not None and len(self._texts) > stored:  # this reply's items accepted before it
                sibling = process.extractOne(encoded[index], self._texts[stored:], scorer=fuzz.ratio,
                                             processor=None, score_cutoff=cutoff)
                if sibling is not None and (hit is None or sibling[1] > hit[0]):
                    hit = (sibling[1], stored + sibling[2])
            text = texts[index]
            mine = shingles(self._encode_whole(records[index], encoded[index])) if self._near is not None else frozenset()
            verdict = self._rouge_verdict(hit) or self._near_verdict(near[index] if near else None, mine)
            verdicts.append(verdict or (True, "", ""))
            if verdict is None and add:
                row = None if sketch is None else (sketch[0][index], sketch[1][index], sketch[2][index])
                self._remember(text, mine, keys[index] if keys else f"item-{len(self._texts)}", encoded[index], row)
        if len(self._recent) >= WINDOW:  # after the reply: its items were checked against the index as it was
            self._flush()
        return verdicts

    def candidates(self, encoded: str, stop: int) -> list[int] | None:
        """Stored texts (below `stop`, ascending) that could reach the ROUGE-L threshold; None: all could.

        Pigeonhole: a text sharing at least `need` of the query's m elements holds one of any
        m - need + 1 of them, so the rarest m - need + 1 are looked up.
        """
        need = 0 if self.full_scan or self.rouge_threshold is None else min_overlap(len(encoded), self.rouge_threshold)
        if need <= 0:
            return None
        postings = self._postings
        lists = sorted((postings.get(e, ()) for e in elements(encoded)), key=len)[:len(encoded) - need + 1]
        found: set[int] = set()
        for posting in lists:
            found.update(posting)
        return sorted(i for i in found if i < stop)

    def _best_stored(self, encoded: str, cutoff: float, stop: int) -> tuple[float, int] | None:
        """(score, index) of the first best-scoring stored text below `stop`, if it reaches `cutoff`."""
        found = self.candidates(encoded, stop)
        columns = range(stop) if found is None else found
        if not columns:
            return None
        texts = self._texts
        scores = process.cdist([encoded], [texts[i] for i in columns] if found is not None else texts[:stop],
                               scorer=fuzz.ratio, processor=None, score_cutoff=cutoff, workers=1)[0]
        column = int(scores.argmax())  # the first of equal best scores: the earliest stored text
        if scores[column] < cutoff:
            return None
        return float(scores[column]), columns[column]

    def _store(self, encoded: str) -> None:
        index = len(self._texts)
        self._texts.append(encoded)
        postings = self._postings
        for element in elements(encoded):
            posting = postings.get(element)
            if posting is None:
                postings[element] = [index]
            else:
                posting.append(index)

    def _encode_whole(self, record: Record, task: str) -> str:
        """`codec.encode(record_text(record))` from the encoded task text: fields join at a line break, a token boundary."""
        if self.fields != ("instruction", "input") or self.full_scan:
            return self.codec.encode(record_text(record))
        output = record.get("output")
        return task + self.codec.encode(output) if isinstance(output, str) and output else task

    def _flush(self) -> None:
        keys = [r[2] for r in self._recent]
        if all(r[4] is not None for r in self._recent):  # sketched when they were checked: index those rows
            rows = [r[4] for r in self._recent]
            self._near.add_sketched(np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]),
                                    np.array([r[2] for r in rows], dtype=bool), keys)
        else:
            self._near.add_many([r[1] for r in self._recent], keys)
        self._near_kind.update({r[2]: r[3] for r in self._recent})
        self._recent.clear()

    def _remember(self, text: str, mine: frozenset[str], key: str, encoded: str, sketch: Any = None) -> None:
        self._store(encoded)
        self._keys.append(("earlier", key))
        if self._near is not None:
            self._recent.append((mine, text, key, "earlier", sketch))

    def _rouge_verdict(self, hit: tuple[float, int] | None) -> tuple[bool, str, str] | None:
        if hit is None:
            return None
        kind, key = self._keys[hit[1]]
        reason = SIMILAR_TO_SEED if kind == "seed" else SIMILAR_TO_EARLIER
        return False, reason, f"rouge_l={hit[0] / 100:.2f} with {key}"

    def _near_verdict(self, found: tuple[Any, float] | None, mine: frozenset[str]) -> tuple[bool, str, str] | None:
        if self._near is None or self.near_threshold is None:
            return None
        if found is not None:
            key, similarity = found
            kind = "seed " if self._near_kind.get(key) == "seed" else ""
            return False, NEAR_DUPLICATE, f"similarity={similarity:.2f} with {kind}{key}"
        size = len(mine)
        for theirs, _, key, _, _ in self._recent:
            other = len(theirs)
            big = max(size, other)
            # exact shortcut: Jaccard <= min(|A|, |B|) / max(|A|, |B|), so a pair whose sizes differ
            # that much cannot reach the threshold (a rounded quotient keeps that order)
            if big and min(size, other) / big < self.near_threshold:
                continue
            common = len(mine & theirs)
            union = size + other - common
            similarity = common / union if union else 1.0
            if similarity >= self.near_threshold:
                return False, NEAR_DUPLICATE, f"similarity={similarity:.2f} with {key}"
        return None
