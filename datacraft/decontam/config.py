"""Decontamination settings (`datacraft decontaminate`, and the `decontaminate` section of a config file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from datacraft.config import validate_section


class DecontamConfig(BaseModel):
    """How training text is matched against eval items; None switches a check off."""

    model_config = ConfigDict(extra="forbid")

    ngram_word: int = Field(13, ge=1, description="word n-gram size for candidates (GPT-3's 13)")
    ngram_cjk: int = Field(13, ge=1, description="character n-gram size for Chinese, Japanese, Korean text")
    dynamic_n: bool = Field(True, description="per benchmark, lower n to its 5th-percentile item length (>= 8), as GPT-3 did")
    threshold: float = Field(0.5, gt=0, le=1, description="matched share of the eval item that makes a copy (Cosmopedia's 0.5)")
    min_match_word: int = Field(8, ge=1, description="fewest matched words that make a copy; a shorter eval item "
                                                     "is a copy only of a prompt that equals it")
    min_match_cjk: int = Field(12, ge=1, description="the same in CJK characters (a Chinese word is 1-2 characters)")
    word_candidates: float | None = Field(0.7, gt=0, le=1,
                                          description="also diff eval items whose rare words a record mostly contains "
                                                      "(weighted share), for short items an edit leaves no n-gram in")
    eval_text: Literal["prompt", "all"] = Field("prompt", description="eval side compared: the question only, or question and answer")
    cross_lingual: bool = Field(False, description="also match translations of the eval items (needs an LLM endpoint)")
    translator: Literal["llm", "marian"] = Field("llm", description="llm: the LLM client (cached); marian: local MarianMT models")
    model_dirs: dict[str, str] = Field({}, description="marian: one folder per direction, e.g. {en-zh: ./opus-mt-en-zh}")
    marian_max_length: int = Field(512, ge=8, description="marian: longest input and output, in tokens")
    translate_to: list[str] = Field(["en", "zh"], description="languages each eval item is translated into (its own is skipped)")
    ngram_translated: int = Field(8, ge=1, description="n for translated items: two translations rarely share 13 words in a row")
    judge: bool = Field(False, description="ask an LLM about borderline candidates (needs an LLM endpoint)")
    judge_low: float = Field(0.2, ge=0, le=1, description="matched share from which a candidate below threshold is borderline")
    judge_similarity: float | None = Field(0.5, gt=0, le=1,
                                           description="weighted word containment that sends an n-gram-free neighbour to the judge")
    judge_prompt: str | None = Field(None, description="your own Jinja2 template instead of prompts/decontam_judge.j2")
    block_size: int = Field(64, ge=1, description="training records judged concurrently")


def make_decontam_config(section: dict | None = None, where: str = "decontaminate", **flags: object) -> DecontamConfig:
    """The config from a file section, with command-line flags (None = not given) on top."""
    config = validate_section(DecontamConfig, section, where)
    updates = {k: v for k, v in flags.items() if v is not None}
    return validate_section(DecontamConfig, {**config.model_dump(), **updates}, where)
