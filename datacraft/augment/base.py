"""What every augmentation method returns: the new field values of one record copy, or why there are none."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Failed:
    """Why a text or a record copy could not be augmented (`reason` is a snake_case constant)."""

    reason: str
    detail: str = ""


@dataclass
class Rewrite:
    """A record copy's rewritten fields and what the method wants noted in `meta.augment`, or a failure."""

    fields: dict[str, str] = field(default_factory=dict)
    failure: Failed | None = None
    info: dict[str, Any] = field(default_factory=dict)
