"""The quality guard every augmented record passes: the clean filters, then a drift check against its source.

The drift check compares the fields a method rewrote with the same fields of the source, in
units (CJK characters and words, as the length filters count): the length ratio must stay within
bounds, and the similarity (rapidfuzz Indel similarity over the unit sequences) must be below
`max_similarity` in at least one rewritten field (a copy where no field changed noticeably adds
nothing to training) and, over all of them, above `min_similarity` (below it the meaning was
probably lost). The language must not change.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz.distance import Indel

from datacraft.augment.config import GuardConfig
from datacraft.clean import CleanConfig, quality_check
from datacraft.records import Record
from datacraft.textutil import CJK_CLASS, language

_UNIT = re.compile(rf"[{CJK_CLASS}]|[^\W_{CJK_CLASS}]+")

Verdict = tuple[bool, str, str]


def units(text: str) -> list[str]:
    """CJK characters and lower-cased words, the unit of length and similarity.

    >>> units("LoRA 微调, fast!")
    ['lora', '微', '调', 'fast']
    """
    return _UNIT.findall(text.lower())


def similarity(a: str, b: str) -> float:
    """Indel similarity of the unit sequences, 0..1.

    >>> similarity("the cat sat", "the cat sat"), round(similarity("the cat sat", "the dog sat"), 2)
    (1.0, 0.67)
    """
    return Indel.normalized_similarity(units(a), units(b))


class Guard:
    """`guard(candidate, source, fields)` -> (ok, reason, detail)."""

    def __init__(self, config: GuardConfig | None = None, clean: CleanConfig | None = None):
        self.config = config or GuardConfig()
        self.quality: Callable[[Record], Verdict] = quality_check(clean or CleanConfig())

    def __call__(self, candidate: Record, source: Record, fields: list[str]) -> Verdict:
        ok, reason, detail = self.quality(candidate)
        if not ok:
            return False, reason, detail
        return self.drift(candidate, source, fields)

    def drift(self, candidate: Record, source: Record, fields: list[str], groups: list[list[str]] | None = None) -> Verdict:
        """The drift check alone, over `fields` (the fields the method rewrote).

        `groups` splits the fields into exchanges (a prompt and its answers) whose length and
        similarity are checked one by one: a conversation's long answer must not hide a mangled
        earlier turn. None: all fields are one exchange, as in an Alpaca record.
        """
        if not fields:
            return True, "", ""
        old = "\n".join(str(source.get(f) or "") for f in fields)
        new = "\n".join(str(candidate.get(f) or "") for f in fields)
        if old == new:
            return False, "unchanged", f"{', '.join(fields)}: identical to the source"
        for name in fields:
            before, after = language(str(source.get(name) or "")), language(str(candidate.get(name) or ""))
            if before in ("zh", "en") and after != before:
                return False, "language_changed", f"{name}: {before} -> {after}"
        cfg = self.config
        exchanges = [[f for f in fields if f in group] for group in groups] if groups and len(groups) > 1 else [fields]
        joined = {}
        for group in exchanges:
            where = f"{', '.join(group)}: " if len(exchanges) > 1 else ""
            old_units = units("\n".join(str(source.get(f) or "") for f in group))
            new_units = units("\n".join(str(candidate.get(f) or "") for f in group))
            joined[where] = old_units, new_units
            if old_units and (cfg.min_length_ratio is not None or cfg.max_length_ratio is not None):
                ratio = len(new_units) / len(old_units)
                if cfg.min_length_ratio is not None and ratio < cfg.min_length_ratio:
                    return False, "length_drift", f"{where}{ratio:.2f}x the source's length < {cfg.min_length_ratio}"
                if cfg.max_length_ratio is not None and ratio > cfg.max_length_ratio:
                    return False, "length_drift", f"{where}{ratio:.2f}x the source's length > {cfg.max_length_ratio}"
        if cfg.max_similarity is not None:
            # The field that changed most decides: a reworded instruction is a new prompt even when
            # its long answer kept all but a few words.
            changed = [name for name in fields if str(source.get(name) or "") != str(candidate.get(name) or "")]
            score, name = min((similarity(str(source.get(n) or ""), str(candidate.get(n) or "")), n) for n in changed)
            if score >= cfg.max_similarity:
                return False, "too_similar", f"similarity {score:.2f} >= {cfg.max_similarity} (the most changed field, {name})"
        if cfg.min_similarity is not None:
            for where, (old_units, new_units) in joined.items():
                score = Indel.normalized_similarity(old_units, new_units)
                if score < cfg.min_similarity:
                    return False, "drifted", f"{where}similarity {score:.2f} < {cfg.min_similarity}"
        return True, "", ""
