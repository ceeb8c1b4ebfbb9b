"""Benchmark decontamination: n-gram overlap, cross-lingual matching and an optional LLM judge."""

from datacraft.decontam.config import DecontamConfig, make_decontam_config
from datacraft.decontam.judge import parse_verdict
from datacraft.decontam.overlap import Match, NeighbourIndex, NgramIndex, View, score, tokens
from datacraft.decontam.run import decontaminate_file, load_eval_sets
from datacraft.decontam.stage import (
    EVAL_JUDGED_SAME,
    EVAL_OVERLAP,
    EVAL_OVERLAP_TRANSLATED,
    STAGE,
    Decontaminator,
)
from datacraft.decontam.text import all_text, prompt_text

__all__ = [
    "EVAL_JUDGED_SAME",
    "EVAL_OVERLAP",
    "EVAL_OVERLAP_TRANSLATED",
    "STAGE",
    "DecontamConfig",
    "Decontaminator",
    "Match",
    "NeighbourIndex",
    "NgramIndex",
    "View",
    "all_text",
    "decontaminate_file",
    "load_eval_sets",
    "make_decontam_config",
    "parse_verdict",
    "prompt_text",
    "score",
    "tokens",
]
