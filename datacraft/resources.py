"""Find the bundled `schemas/` and `prompts/` folders in a source checkout or an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Return the folder `name` ("schemas" or "prompts"), wherever this install keeps it."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"datacraft resource folder {name!r} not found (broken install?)")
