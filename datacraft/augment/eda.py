"""Easy Data Augmentation (Wei & Zou 2019; nlpaug's word and character augmenters), opt-in, on the prompt.

Four operations, each touching about `eda.ratio` of the words (noise: of the characters) of the
prompt fields (instruction and input by default: an answer with shuffled words or typos teaches
the model to write them). Protected spans (code, URLs, numbers, placeholders, quotes) and terms
(the domain dictionary) are never moved, deleted or misspelt.

- `swap`: two words of the same sentence trade places. Good for: robustness of classifiers and
  of intent matching to word order. Not for: anything where order is meaning (Chinese above all,
  "A beats B"); copies read as broken.
- `delete`: words dropped at random, never all of a sentence. Good for: robustness to terse or
  truncated prompts. Not for: negations and numbers' units, which it can drop.
- `insert`: a curated synonym of a word of the text inserted at a random place (EDA's insertion).
  Good for: cheap noise that keeps the vocabulary on topic. Not for: fluent training prompts.
- `noise`: character typos (an adjacent swap, a dropped or doubled letter; for Chinese a dropped
  or doubled character). Good for: robustness data, user-typed queries. Not for: answers, code.
None of them is natural text; docs/benchmarks.md has their measured acceptability.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from datacraft.augment.base import Failed, Rewrite
from datacraft.augment.config import EdaConfig
from datacraft.augment.curated import CuratedSynonyms
from datacraft.augment.protect import segments
from datacraft.augment.tasks import fields_to_rewrite
from datacraft.records import Record
from datacraft.textutil import language

_EN_TOKEN = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*|\s+|[^\sA-Za-z]")
_WORD = re.compile(r"[^\W\d_]")
_SENTENCE_END = frozenset("。！？!?.;；\n")


class Eda:
    """`eda(record, rng)` -> Rewrite for one operation (`swap`, `delete`, `insert` or `noise`)."""

    def __init__(self, operation: str, config: EdaConfig | None = None, *, protect_factual: bool = True,
                 synonyms: CuratedSynonyms | None = None):
        self.operation = operation
        self.config = config or EdaConfig()
        self.protect_factual = protect_factual
        self.synonyms = synonyms or CuratedSynonyms()
        self._apply: Callable[[list[list[str]], random.Random, str], int] = getattr(self, f"_{operation}")

    def __call__(self, record: Record, rng: random.Random) -> Rewrite:
        rewrite = Rewrite()
        counts: dict[str, int] = {}
        for name in fields_to_rewrite(record, self.config.fields, self.protect_factual):
            lang = language(record[name])
            if lang not in ("zh", "en"):
                continue
            sentences = self._sentences(record[name], lang)
            done = self._apply(sentences, rng, lang)
            if done:
                rewrite.fields[name] = "".join(t[1:] if t.startswith("\0") else t for tokens in sentences for t in tokens)
                counts[name] = done
        rewrite.info[self.operation] = counts
        if not rewrite.fields:
            rewrite.failure = Failed("nothing_to_rewrite", f"no word {self.operation} could touch safely")
        return rewrite

    def _sentences(self, text: str, lang: str) -> list[list[str]]:
        """The text as sentences of tokens; protected spans and terms are single tokens marked with \\0."""
        sentences: list[list[str]] = [[]]
        for piece, protected in segments(text):
            if protected:
                sentences[-1].append("\0" + piece)
                continue
            if lang == "zh":
                engine = self.synonyms.chinese
                tokens = [("\0" + t if t in engine.terms else t) for t in engine.segmenter.cut(piece)]
            else:
                tokens = _EN_TOKEN.findall(piece)
            for token in tokens:
                sentences[-1].append(token)
                if token in _SENTENCE_END:
                    sentences.append([])
        return sentences

    def _budget(self, count: int) -> int:
        return max(1, round(self.config.ratio * count))

    @staticmethod
    def _words(tokens: list[str]) -> list[int]:
        return [i for i, t in enumerate(tokens) if not t.startswith("\0") and _WORD.match(t)]

    def _swap(self, sentences: list[list[str]], rng: random.Random, lang: str) -> int:
        usable = [s for s in sentences if len(self._words(s)) >= 2]
        total = sum(len(self._words(s)) for s in usable)
        done = 0
        for _ in range(self._budget(total) if usable else 0):
            tokens = rng.choice(usable)
            a, b = rng.sample(self._words(tokens), 2)
            if tokens[a] != tokens[b]:
                tokens[a], tokens[b] = tokens[b], tokens[a]
                done += 1
        return done

    def _delete(self, sentences: list[list[str]], rng: random.Random, lang: str) -> int:
        words = [(s, i) for s in sentences if len(self._words(s)) >= 3 for i in self._words(s)]
        done = 0
        for tokens, index in rng.sample(words, min(len(words), self._budget(len(words)))):
            if len([i for i in self._words(tokens) if tokens[i]]) <= 2:
                continue  # never empty a sentence
            tokens[index] = ""
            if lang == "en" and index + 1 < len(tokens) and tokens[index + 1].isspace():
                tokens[index + 1] = ""
            done += 1
        return done

    def _insert(self, sentences: list[list[str]], rng: random.Random, lang: str) -> int:
        engine = self.synonyms.chinese if lang == "zh" else self.synonyms.english
        text = "".join("".join(t.lstrip("\0") for t in s) for s in sentences)
        options = [r for slot in engine.slots("x", text) for r in slot.pair.replacements]
        usable = [s for s in sentences if self._words(s)]
        if not options or not usable:
            return 0
        count = self._budget(sum(len(self._words(s)) for s in usable))
        for _ in range(count):
            tokens = rng.choice(usable)
            at = rng.choice(self._words(tokens))
            word = rng.choice(options)
            tokens.insert(at, word if lang == "zh" else word.lower() + " ")
        return count

    def _noise(self, sentences: list[list[str]], rng: random.Random, lang: str) -> int:
        spots = [(s, i) for s in sentences for i in self._words(s) if len(s[i]) >= (1 if lang == "zh" else 4)]
        chars = sum(len(s[i]) for s, i in spots)
        done = 0
        for tokens, index in rng.sample(spots, min(len(spots), self._budget(chars))):
            tokens[index] = _typo(tokens[index], rng, lang)
            done += 1
        return done


def _typo(word: str, rng: random.Random, lang: str) -> str:
    """One character-level slip: swap two neighbours, drop one or double one (never the first letter).

    >>> _typo("letter", random.Random(1), "en") != "letter"
    True
    """
    kinds = ["drop", "double"] if lang == "zh" or len(word) < 3 else ["swap", "drop", "double"]
    kind = rng.choice(kinds)
    at = rng.randrange(1, len(word)) if len(word) > 1 else 0
    if kind == "swap" and word[at - 1] != word[at]:
        return word[:at - 1] + word[at] + word[at - 1] + word[at + 1:]
    if kind == "drop" and len(word) > 1:
        return word[:at] + word[at + 1:]
    return word[:at] + word[at] + word[at:]
