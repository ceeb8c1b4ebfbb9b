"""Back-translation: each rewritable field goes source -> pivot -> source, with its protected spans masked.

Chinese text pivots through English and everything else through Chinese (`pivot: auto`), or
through the pivot named. Within a block of records the texts are grouped by direction and
batched; each batch makes both hops before the next is needed, so an LLM endpoint is kept busy
up to its concurrency limit. Chinese results are converted back to the input's script
(Simplified or Traditional). A record copy whose fields did not all come back, or whose
protected spans did not survive, is rejected with the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from datacraft.augment.base import Failed, Rewrite
from datacraft.augment.config import BacktranslateConfig
from datacraft.augment.protect import Masked, SpanLost, has_sentinel_text, mask, unmask
from datacraft.augment.script import HANS, HANT, chinese_script, to_script
from datacraft.augment.tasks import fields_to_rewrite
from datacraft.augment.translate import LANGUAGE_NAMES, Translator, base_language
from datacraft.records import Record
from datacraft.textutil import language

_TRANSLATABLE = set(LANGUAGE_NAMES) - {"zh-Hans", "zh-Hant"}


@dataclass
class _Job:
    record: int
    copy: int
    field: str
    masked: Masked
    source: str  # language code, "zh-Hans"/"zh-Hant" for Chinese
    pivot: str
    result: str | Failed | None = None


def text_language(text: str) -> str:
    """The language code a translator is asked to translate from: zh-Hans, zh-Hant, en, ja, ko, or ""."""
    lang = language(text)
    if lang == "zh":
        return "zh-Hant" if chinese_script(text) == HANT else "zh-Hans"
    return lang if lang in _TRANSLATABLE else ""


def choose_pivot(source: str, pivot: str = "auto") -> str:
    """The pivot for a text: `pivot` unless the text is already in it; auto is en for Chinese, else zh.

    >>> choose_pivot("zh-Hans"), choose_pivot("en"), choose_pivot("en", "ja"), choose_pivot("zh-Hant", "zh")
    ('en', 'zh-Hans', 'ja', 'en')
    """
    if pivot != "auto" and base_language(pivot) != base_language(source):
        return "zh-Hans" if pivot == "zh" else pivot
    return "en" if base_language(source) == "zh" else "zh-Hans"


class BackTranslator:
    """`await bt.rewrite(records)` -> for each record, `copies` Rewrites."""

    def __init__(self, translator: Translator, config: BacktranslateConfig | None = None, *,
                 fields: list[str] | tuple[str, ...] = ("instruction", "input", "output"),
                 protect_factual: bool = True, copies: int = 1):
        self.translator = translator
        self.config = config or BacktranslateConfig()
        self.fields = list(fields)
        self.protect_factual = protect_factual
        self.copies = copies

    async def rewrite(self, records: list[Record]) -> list[list[Rewrite]]:
        """Back-translate the rewritable fields of every record, `copies` times each."""
        out = [[Rewrite() for _ in range(self.copies)] for _ in records]
        jobs: list[_Job] = []
        for r, record in enumerate(records):
            for c in range(self.copies):
                failure = self._plan(record, r, c, jobs)
                if failure is not None:
                    out[r][c].failure = failure
        await asyncio.gather(*(self._round_trip(batch) for batch in self._batches(jobs)))
        for job in jobs:
            rewrite = out[job.record][job.copy]
            if rewrite.failure is not None:
                continue
            if isinstance(job.result, Failed) or job.result is None:
                rewrite.failure = job.result or Failed("translation_failed")
                continue
            try:
                text = unmask(job.result, job.masked.spans)
            except SpanLost as exc:
                rewrite.failure = Failed("protected_span_lost", f"{job.field}: {exc}")
                continue
            if base_language(job.source) == "zh":
                text = to_script(text, chinese_script_of(job.source))
            rewrite.fields[job.field] = text
            if job.pivot != job.source:
                rewrite.info.setdefault("pivot", {})[job.field] = job.pivot
        return out

    def _plan(self, record: Record, r: int, c: int, jobs: list[_Job]) -> Failed | None:
        planned = 0
        for name in fields_to_rewrite(record, self.fields, self.protect_factual):
            text = record[name]
            source = text_language(text)
            if not source:
                continue  # no words to translate (numbers, symbols) or a language without a name
            if has_sentinel_text(text):
                return Failed("protected_span_lost", f"{name}: the text already contains ⟦n⟧ markers")
            masked = mask(text)
            if not text_language(masked.text.replace("⟦", " ").replace("⟧", " ")):
                continue  # nothing but protected spans
            jobs.append(_Job(r, c, name, masked, source, self.pivot_for(source)))
            planned += 1
        return None if planned else Failed("nothing_to_rewrite", "no field with translatable text")

    def pivot_for(self, source: str) -> str:
        """The language a text of `source` goes through."""
        return choose_pivot(source, self.config.pivot)

    def _batches(self, jobs: list[_Job]) -> list[list[_Job]]:
        """Jobs grouped by direction and copy, cut at batch_size texts or batch_chars characters."""
        groups: dict[tuple[str, str, int], list[_Job]] = {}
        for job in jobs:
            groups.setdefault((job.source, job.pivot, job.copy), []).append(job)
        batches: list[list[_Job]] = []
        for group in groups.values():
            batch: list[_Job] = []
            chars = 0
            for job in group:
                size = len(job.masked.text)
                if batch and (len(batch) >= self.translator.batch_size or chars + size > self.config.batch_chars):
                    batches.append(batch)
                    batch, chars = [], 0
                batch.append(job)
                chars += size
            if batch:
                batches.append(batch)
        return batches

    async def _round_trip(self, batch: list[_Job]) -> None:
        source, pivot, copy = batch[0].source, batch[0].pivot, batch[0].copy
        there = await self.translator.translate([j.masked.text for j in batch], source, pivot, copy)
        onward: list[tuple[_Job, str]] = []
        for job, result in zip(batch, there, strict=True):
            if isinstance(result, Failed):
                job.result = result
            else:
                onward.append((job, result))
        if not onward:
            return
        back = await self.translator.translate([text for _, text in onward], pivot, source, copy)
        for (job, _), result in zip(onward, back, strict=True):
            job.result = result


def chinese_script_of(code: str) -> str:
    """'zh-Hant' -> HANT, else HANS."""
    return HANT if code == "zh-Hant" else HANS
