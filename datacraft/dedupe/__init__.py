"""Exact and near-duplicate removal: streaming exact hashes, MinHash (OPH) + banded LSH for the rest."""

from datacraft.dedupe.config import DedupeConfig, load_dedupe_config, make_config
from datacraft.dedupe.exact import EXACT_DUPLICATE, EXACT_STAGE, exact_dedupe
from datacraft.dedupe.files import dedupe_file, dedupe_stages, read_references
from datacraft.dedupe.normalize import exact_key, field_text, normalize
from datacraft.dedupe.novelty import NoveltyIndex
from datacraft.dedupe.stage import (
    COPIES_REFERENCE,
    NEAR_DUPLICATE,
    NEAR_STAGE,
    near_dedupe,
    near_duplicate_clusters,
)

__all__ = [
    "COPIES_REFERENCE",
    "EXACT_DUPLICATE",
    "EXACT_STAGE",
    "NEAR_DUPLICATE",
    "NEAR_STAGE",
    "DedupeConfig",
    "NoveltyIndex",
    "dedupe_file",
    "dedupe_stages",
    "exact_dedupe",
    "exact_key",
    "field_text",
    "load_dedupe_config",
    "make_config",
    "near_dedupe",
    "near_duplicate_clusters",
    "normalize",
    "read_references",
]
