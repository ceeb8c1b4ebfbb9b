"""Augmentation: reviewed synonym pairs, back-translation, paraphrase, EDA and mixing, with a quality guard and an LLM judge."""

from datacraft.augment.backtranslate import BackTranslator, choose_pivot, text_language
from datacraft.augment.base import Failed, Rewrite
from datacraft.augment.config import (
    AugmentConfig,
    BacktranslateConfig,
    EdaConfig,
    GuardConfig,
    JudgeConfig,
    MixConfig,
    ParaphraseConfig,
    SynonymConfig,
    augment_config,
    load_sections,
)
from datacraft.augment.curated import CuratedSynonyms, is_word_list
from datacraft.augment.eda import Eda
from datacraft.augment.guard import Guard, similarity, units
from datacraft.augment.judge import CopyJudge, Judgement, parse_judgement
from datacraft.augment.mix import Mixed, concat, mix_concat, mix_system
from datacraft.augment.paraphrase import LLMParaphraser, Paraphraser
from datacraft.augment.preview import preview
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
    "CopyJudge",
    "CuratedSynonyms",
    "Eda",
    "EdaConfig",
    "Failed",
    "Guard",
    "GuardConfig",
    "JudgeConfig",
    "Judgement",
    "LLMParaphraser",
    "LLMTranslator",
    "Masked",
    "MixConfig",
    "Mixed",
    "ParaphraseConfig",
    "Paraphraser",
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
    "is_word_list",
    "load_sections",
    "mask",
    "mix_concat",
    "mix_system",
    "parse_judgement",
    "parse_translations",
    "preview",
    "rng_for",
    "segments",
    "similarity",
    "task_kind",
    "text_language",
    "units",
    "unmask",
]
