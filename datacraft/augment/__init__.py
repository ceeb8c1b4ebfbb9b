"""Augmentation: back-translation, synonym replacement (Chinese and English) and mixing, with a quality guard."""

from datacraft.augment.backtranslate import BackTranslator, choose_pivot, text_language
from datacraft.augment.base import Failed, Rewrite
from datacraft.augment.config import (
    AugmentConfig,
    BacktranslateConfig,
    GuardConfig,
    MixConfig,
    SynonymConfig,
    augment_config,
    load_sections,
)
from datacraft.augment.guard import Guard, similarity, units
from datacraft.augment.mix import Mixed, concat, mix_concat, mix_system
from datacraft.augment.protect import Masked, SpanLost, find_spans, mask, segments, unmask
from datacraft.augment.runner import Augmenter, augment_file, derive, rng_for
from datacraft.augment.synonyms import SynonymReplacer
from datacraft.augment.tasks import fields_to_rewrite, task_kind
from datacraft.augment.translate import LLMTranslator, Translator, parse_translations

__all__ = [
    "AugmentConfig",
    "Augmenter",
    "BackTranslator",
    "BacktranslateConfig",
    "Failed",
    "Guard",
    "GuardConfig",
    "LLMTranslator",
    "Masked",
    "MixConfig",
    "Mixed",
    "Rewrite",
    "SpanLost",
    "SynonymConfig",
    "SynonymReplacer",
    "Translator",
    "augment_config",
    "augment_file",
    "choose_pivot",
    "concat",
    "derive",
    "fields_to_rewrite",
    "find_spans",
    "load_sections",
    "mask",
    "mix_concat",
    "mix_system",
    "parse_translations",
    "rng_for",
    "segments",
    "similarity",
    "task_kind",
    "text_language",
    "units",
    "unmask",
]
