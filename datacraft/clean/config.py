"""The `clean` configuration: `normalize`, `filters` and `dedupe` sections, loaded from YAML or JSON.

Every default is chosen for *instruction* data (Alpaca records written by people or by an LLM),
not for web crawl: a good record set should lose almost nothing to the default filters. Each
field's description is its one-line documentation; `datacraft clean --print-config` prints them.
A threshold of `None` switches its check off.
"""

from __future__ import annotations

from typing import Any

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from datacraft.config import read_config_file, validate_section
from datacraft.dedupe import DedupeConfig


def _opt(default: Any, doc: str) -> Any:
    """A field with its default and its one-line documentation."""
    return Field(default, description=doc)


class NormalizeConfig(BaseModel):
    """Which normalisation steps run (Unicode NFC always runs)."""

    model_config = ConfigDict(extra="forbid")

    fix_mojibake: bool = _opt(True, "repair mis-decoded text (ftfy): 'donâ€™t' -> 'don’t', 'ä½ å¥½' -> '你好'")
    html: bool = _opt(True, "strip tags and unescape entities, only in text that looks like HTML junk")
    fullwidth: bool = _opt(True, "full-width ASCII -> half-width; Chinese punctuation (，：；！？（）) and code untouched")
    whitespace: bool = _opt(True, "strip, collapse space runs, <= 1 blank line, drop zero-width chars; code kept")
    strip_quotes: bool = _opt(True, "remove quotes wrapping a whole field: “…”, \"…\", 「…」, 『…』")
    strip_prefixes: bool = _opt(True, "remove 'Answer:' / 'Output:' / '答案：' / '输出：' at the start of output")
    t2s: bool = _opt(False, "convert Traditional to Simplified Chinese (OpenCC t2s)")


class FilterConfig(BaseModel):
    """Which records to drop. Lengths are in units: CJK characters plus words (textutil.text_length).

    Fields are the Alpaca view of any record (datacraft.records): `instruction` is the last user
    turn, `output` its answer; prompt limits apply to user turns, answer limits to assistant turns.
    """

    model_config = ConfigDict(extra="forbid")

    required: list[str] = _opt(["instruction", "output"], "view fields that must be non-empty (output: chosen and rejected in preference data)")
    min_instruction_length: int | None = _opt(1, "units, opening user turn; 1 keeps greetings like 'hi' (identity data)")
    max_instruction_length: int | None = _opt(2048, "units, every user turn; longer prompts belong in `input`")
    min_output_length: int | None = _opt(1, "units, every assistant turn; one word or character ('5', 'Yes', '是') is a valid answer")
    max_output_length: int | None = _opt(4000, "units, every assistant turn; about 4000 words or Chinese characters")
    max_total_chars: int | None = _opt(24000, "characters over every turn incl. system, history and tool calls (~8k tokens)")
    max_instruction_similarity: float | None = _opt(0.95, "0..1; output this close to the instruction repeats it")
    max_char_run: int | None = _opt(20, "longest run of one letter, digit or CJK character ('哈哈哈…', 'aaaa…')")
    max_ngram_repetition: float | None = _opt(0.5, "0..1; share of repeated character 10-grams in output prose")
    max_duplicate_lines: float | None = _opt(0.5, "0..1; share of output lines (>= 4) that repeat an earlier line")
    max_symbol_ratio: float | None = _opt(0.5, "0..1; junk symbols (★※◆, emoji, #@$) per character of a turn; code/math/tool JSON exempt")
    refusal: bool = _opt(True, "drop refusals and 'as an AI language model' boilerplate (English, Chinese); not in records with tools or chosen answers")
    blacklist: list[str] = _opt([], "drop records containing any of these keywords (case-insensitive)")
    blacklist_patterns: list[str] = _opt([], "drop records matching any of these regexes (`regex` syntax, case-insensitive)")
    pattern_timeout: float = _opt(0.1, "seconds one blacklist pattern may run on one record; past it: `pattern_timeout`")
    languages: list[str] | None = _opt(None, "keep only these languages (zh, en, ja, ko, other), e.g. [zh, en]")

    @field_validator("blacklist_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                regex.compile(pattern)
            except regex.error as exc:
                raise ValueError(f"blacklist pattern {pattern!r} does not compile: {exc}") from None
        return patterns

    @field_validator("pattern_timeout")
    @classmethod
    def _positive(cls, seconds: float) -> float:
        if not seconds > 0:
            raise ValueError(f"pattern_timeout must be > 0 seconds, got {seconds}")
        return seconds


class CleanConfig(BaseModel):
    """The whole `clean` configuration; `dedupe: null` (or `enabled: false`) skips deduplication."""

    model_config = ConfigDict(extra="forbid")

    normalize: NormalizeConfig = _opt(NormalizeConfig(), "normalisation steps")
    filters: FilterConfig = _opt(FilterConfig(), "quality filters")
    dedupe: DedupeConfig | None = _opt(DedupeConfig(), "exact then near-duplicate removal")


def load_clean_config(path: str | None) -> CleanConfig:
    """Read a clean config from YAML or JSON (None: the defaults); unknown keys raise ConfigError."""
    if path is None:
        return CleanConfig()
    return validate_section(CleanConfig, read_config_file(path), str(path),
                            hint=" (see `datacraft clean --print-config`)")


def default_config_yaml() -> str:
    """The default configuration as commented YAML (what `datacraft clean --print-config` prints)."""
    lines = ["# datacraft clean configuration (defaults). A threshold of null switches its check off."]
    config = CleanConfig()
    for section, field in CleanConfig.model_fields.items():
        model = getattr(config, section)
        lines.append(f"{section}:  # {field.description}")
        if model is None:
            continue
        dumped = model.model_dump(mode="json")
        for name, sub in type(model).model_fields.items():
            value = yaml.safe_dump(dumped[name], default_flow_style=True, allow_unicode=True)
            value = value.strip().removesuffix("...").strip()
            comment = f"  # {sub.description}" if sub.description else ""
            lines.append(f"  {name}: {value}{comment}")
    return "\n".join(lines) + "\n"
