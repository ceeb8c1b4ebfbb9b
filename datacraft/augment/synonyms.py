"""Synonym replacement for a record: reviewed pairs by default (curated.py), or the whole thesaurus per field."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from datacraft.augment.base import Failed, Rewrite
from datacraft.augment.config import SynonymConfig
from datacraft.augment.tasks import fields_to_rewrite
from datacraft.records import Record
from datacraft.textutil import language


class SynonymReplacer:
    """`replacer(record, rng)` -> Rewrite; the Chinese and English resources load on first need."""

    def __init__(self, config: SynonymConfig | None = None, *, fields: list[str] | tuple[str, ...] = ("instruction", "input", "output"),
                 protect_factual: bool = True, chinese: Any = None, english: Any = None, curated: Any = None):
        self.config = config or SynonymConfig()
        self.fields = list(fields)
        self.protect_factual = protect_factual
        self._chinese = chinese
        self._english = english
        self._curated = curated

    @property
    def curated(self) -> Any:
        if self._curated is None:
            from datacraft.augment.curated import CuratedSynonyms, default_curated

            custom = self.config.terms or self.config.pairs
            self._curated = CuratedSynonyms(terms=self.config.terms, pairs=self.config.pairs) if custom else default_curated()
        return self._curated

    @property
    def chinese(self) -> Any:
        if self._chinese is None:
            from datacraft.augment.synonyms_zh import default_chinese_synonyms

            self._chinese = default_chinese_synonyms()
        return self._chinese

    @property
    def english(self) -> Any:
        if self._english is None:
            from datacraft.augment.synonyms_en import EnglishSynonyms

            self._english = EnglishSynonyms(wordnet_dir=self.config.wordnet_dir)
        return self._english

    def __call__(self, record: Record, rng: random.Random) -> Rewrite:
        candidates = fields_to_rewrite(record, self.fields, self.protect_factual)
        if self.config.source == "curated":
            rewrite = self._curated_rewrite(record, candidates, rng)
        else:
            rewrite = self._thesaurus_rewrite(record, candidates, rng)
        if not rewrite.fields:
            detail = f"no replaceable word in {', '.join(candidates)}" if candidates else "no field may be rewritten"
            rewrite.failure = Failed("nothing_to_rewrite", detail)
        return rewrite

    def _curated_rewrite(self, record: Record, candidates: list[str], rng: random.Random) -> Rewrite:
        from datacraft.augment.curated import is_word_list, protected_text

        langs = {name: language(record[name]) for name in candidates}
        # An input or answer that is a word list (synonyms, keywords) is the point of the task: left as it is.
        texts = {name: record[name] for name in candidates if langs[name] in self.config.languages
                 and (name == "instruction" or not is_word_list(record[name]))}
        changed, pairs = self.curated.rewrite(texts, langs, rng, self.config.ratio,
                                              protected_text(record, ("instruction", "input", "output")),
                                              self.config.max_words)
        rewrite = Rewrite(fields=changed)
        rewrite.info["replaced"] = dict(Counter(name for name, _, _ in pairs))
        rewrite.info["pairs"] = [list(pair) for pair in dict.fromkeys((old, new) for _, old, new in pairs)]
        return rewrite

    def _thesaurus_rewrite(self, record: Record, candidates: list[str], rng: random.Random) -> Rewrite:
        rewrite = Rewrite()
        replaced: dict[str, int] = {}
        for name in candidates:
            lang = language(record[name])
            if lang not in self.config.languages:
                continue
            if lang == "zh":
                text, count = self.chinese.rewrite(record[name], rng, self.config.ratio)
            elif lang == "en":
                text, count = self.english.rewrite(record[name], rng, self.config.ratio)
            else:
                continue
            if count:
                rewrite.fields[name] = text
                replaced[name] = count
        rewrite.info["replaced"] = replaced
        return rewrite
