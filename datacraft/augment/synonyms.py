"""Synonym replacement for a record: each rewritable field by its own language (Chinese or English)."""

from __future__ import annotations

import random
from typing import Any

from datacraft.augment.base import Failed, Rewrite
from datacraft.augment.config import SynonymConfig
from datacraft.augment.tasks import fields_to_rewrite
from datacraft.records import Record
from datacraft.textutil import language


class SynonymReplacer:
    """`replacer(record, rng)` -> Rewrite; the Chinese and English resources load on first need."""

    def __init__(self, config: SynonymConfig | None = None, *, fields: list[str] | tuple[str, ...] = ("instruction", "input", "output"),
                 protect_factual: bool = True, chinese: Any = None, english: Any = None):
        self.config = config or SynonymConfig()
        self.fields = list(fields)
        self.protect_factual = protect_factual
        self._chinese = chinese
        self._english = english

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
        rewrite = Rewrite()
        replaced: dict[str, int] = {}
        candidates = fields_to_rewrite(record, self.fields, self.protect_factual)
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
        if not rewrite.fields:
            detail = f"no replaceable word in {', '.join(candidates)}" if candidates else "no field may be rewritten"
            rewrite.failure = Failed("nothing_to_replace", detail)
        rewrite.info["replaced"] = replaced
        return rewrite
