"""Dedupe settings: one pydantic model, shared by `datacraft dedupe`, `clean`, `export` and `generate`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datacraft.config import read_config_file, validate_section
from datacraft.records import COMPARE_FIELDS


class DedupeConfig(BaseModel):
    """How records are compared and which one of a duplicate group is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # false skips both stages (lets a `clean` config switch dedupe off without deleting the section)
    enabled: bool = True
    # exact stage on/off: hash of the normalised text (NFKC, casefold, no punctuation or whitespace)
    exact: bool = True
    # estimated Jaccard similarity at or above which two records are near-duplicates; None = no near stage.
    # 0.7 with answer_threshold 0.5, tuned on the edit set (bench/bench_dedupe_quality.py, docs/benchmarks.md):
    # precision 0.995 and recall 0.93, against 0.993 and 0.76 for 0.8 without the answer check
    threshold: float | None = Field(0.7, gt=0, le=1)
    # the answers (each record's last compared field) must be at least this similar too, estimated
    # apart from the prompt: same long instruction, different answer = different records; None = off
    answer_threshold: float | None = Field(0.5, gt=0, le=1)
    # MinHash signature length (bins); at 128 the similarity estimate has a standard error of 0.035 at 0.8
    num_perm: int = Field(128, ge=16, le=1024)
    # LSH bands x rows (bands * rows <= num_perm); None = chosen from threshold and num_perm (see
    # lsh_shape: 0.7 and 128 give 32 x 4, which makes 99.98% of the pairs at 0.7 candidates); every
    # candidate is then checked against the whole signature, so extra candidates cost only time
    bands: int | None = Field(None, ge=1)
    rows: int | None = Field(None, ge=1)
    # shingle = this many characters for CJK-dominant text. 2, measured on the edit set: recall 0.93 against
    # 0.91 for 3 at the same precision (zh answers are short: a character edit touches n shingles of
    # few, and J ~ (1 - n*e) / (1 + n*e) at edit rate e)
    ngram_cjk: int = Field(2, ge=1, le=16)
    # shingle = this many words for space-separated text (3: on the edit set 2 loses precision,
    # 0.962 against 0.995, on same-template records; words carry more per token than characters)
    ngram_word: int = Field(3, ge=1, le=16)
    # which record of a duplicate group survives: the first seen, or the longest (ties: the first)
    keep: Literal["first", "longest"] = "first"
    # which texts of a record are compared, by Alpaca-view field or tool role (any form: a chat's last
    # user turn is `instruction`, its answer `output`, earlier turns `history`); the whole conversation
    fields: tuple[str, ...] = COMPARE_FIELDS
    # records per vectorised batch; ~1000 keeps a batch's arrays in cache (measured: 4096 is 6% slower)
    batch_size: int = Field(1024, ge=1)

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupeConfig:
        bands, rows = self.bands or 1, self.rows or 1
        if bands * rows > self.num_perm:
            raise ValueError(f"bands * rows ({bands} * {rows}) exceeds num_perm ({self.num_perm})")
        if not self.fields:
            raise ValueError("fields must name at least one record field")
        unknown = [f for f in self.fields if f not in COMPARE_FIELDS]
        if unknown:
            raise ValueError(f"fields: unknown field {unknown[0]!r}; choose from {', '.join(COMPARE_FIELDS)}")
        return self

    def lsh_shape(self, threshold: float | None = None) -> tuple[int, int]:
        """(bands, rows) for `threshold` (default: the config's), filling in what the config leaves open."""
        return lsh_shape(threshold or self.threshold or 0.8, self.num_perm, self.bands, self.rows)


def lsh_shape(threshold: float, num_perm: int, bands: int | None = None, rows: int | None = None,
              recall: float = 0.995) -> tuple[int, int]:
    """The most rows per band for which a pair at `threshold` still becomes a candidate with P >= recall.

    More rows = fewer chance candidates to check; banded LSH finds a pair of similarity s with
    probability 1 - (1 - s**rows)**bands.

    >>> lsh_shape(0.8, 128), lsh_shape(0.5, 128), lsh_shape(0.8, 128, rows=8)
    ((21, 6), (42, 3), (16, 8))
    """
    if bands and rows:
        return bands, rows
    if rows:
        return max(num_perm // rows, 1), rows
    if bands:
        return bands, max(num_perm // bands, 1)
    fits = [r for r in range(1, num_perm + 1) if 1 - (1 - threshold**r) ** (num_perm // r) >= recall]
    best = max(fits, default=1)
    return num_perm // best, best


def load_dedupe_config(path: str | Path | None, **overrides: object) -> DedupeConfig:
    """Read a YAML/JSON dedupe config (or the defaults); unknown keys are an error naming the key."""
    data: dict = dict(read_config_file(path)) if path is not None else {}
    data = data.get("dedupe", data) if set(data) == {"dedupe"} else data
    data.update({k: v for k, v in overrides.items() if v is not None})
    return make_config(data, source=str(path) if path else "dedupe config")


def make_config(data: dict, source: str = "dedupe config") -> DedupeConfig:
    """Validate a dict into a DedupeConfig, turning pydantic errors into one ConfigError line."""
    return validate_section(DedupeConfig, data, source)
