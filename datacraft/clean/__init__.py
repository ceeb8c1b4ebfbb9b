"""Clean instruction data: normalise text, filter bad records, then remove duplicates."""

from datacraft.clean.checks import record_filter
from datacraft.clean.config import (
    CleanConfig,
    FilterConfig,
    NormalizeConfig,
    default_config_yaml,
    load_clean_config,
)
from datacraft.clean.normalize import Normalizer
from datacraft.clean.pipeline import clean_file, clean_stages, quality_check

__all__ = [
    "CleanConfig",
    "FilterConfig",
    "NormalizeConfig",
    "Normalizer",
    "clean_file",
    "clean_stages",
    "default_config_yaml",
    "load_clean_config",
    "quality_check",
    "record_filter",
]
