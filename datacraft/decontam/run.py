"""`decontaminate_file`: drop training records that copy an eval item, and report rates per benchmark.

Three steps, each catching what the one before misses (the per-record work is in stage.py):
1. n-gram or rare-word candidates, then the matched fraction of the eval item (GPT-3,
   Phi-1/Cosmopedia);
2. the same match against each eval item translated once through the LLM client (cached) or
   MarianMT, so a back-translated benchmark item does not pass (LMSYS's translated samples);
3. optionally an LLM judge for borderline candidates: a matched fraction between `judge_low` and
   `threshold`, or no shared n-gram but most of the eval item's rare words (LMSYS's rephrasings).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from datacraft.decontam.config import DecontamConfig
from datacraft.decontam.overlap import View, tokens
from datacraft.decontam.stage import Decontaminator
from datacraft.decontam.text import all_text, prompt_text
from datacraft.errors import ConfigError, InputError
from datacraft.io.readers import iter_records
from datacraft.io.writers import atomic_write, check_not_input, write_records
from datacraft.llm import LLMClient, ResponseCache
from datacraft.llm.config import LLMConfig
from datacraft.stages import Ledger, RejectSink, chain, read_stage
from datacraft.textutil import language


def load_eval_sets(paths: Sequence[str], config: DecontamConfig, read_options: dict[str, Any] | None = None,
                   strict: bool = False) -> tuple[list[View], dict[str, int], dict[str, list[str]]]:
    """One view per eval item of every file (benchmark = file stem), the item count per benchmark,
    and per benchmark the `path:line: error` of each row that could not be read (fatal with `strict`)."""
    views: list[View] = []
    counts: dict[str, int] = {}
    unreadable: dict[str, list[str]] = {}
    pick = prompt_text if config.eval_text == "prompt" else all_text
    for path in paths:
        name = Path(path).stem
        while name in counts:
            name += "+"
        counts[name], unreadable[name] = 0, []
        bad = unreadable[name]
        rows = iter_records(path, strict=strict, on_bad=lambda row, bad=bad: bad.append(f"{row.where}: {row.error}"),
                            **(read_options or {}))
        for number, row in enumerate(rows, start=1):
            record = row.value
            text = pick(record) or all_text(record)
            toks = tokens(text)
            if not toks:
                continue
            counts[name] += 1
            item = str(record.get("id") if record.get("id") is not None else f"{Path(path).stem}:{number}")
            views.append(View(name, item, language(text), toks, text=text))
    return views, counts, unreadable


async def translate_views(views: list[View], translator: Any, targets: Sequence[str]) -> tuple[list[View], int]:
    """Each view translated into each target language other than its own; (new views, failures)."""
    from datacraft.augment.base import Failed

    groups: dict[tuple[str, str], list[View]] = defaultdict(list)
    for view in views:
        for target in targets:
            if target != view.lang and view.lang in ("en", "zh", "ja", "ko"):
                groups[(view.lang, target)].append(view)
    jobs, batches = [], []
    for (source, target), members in groups.items():
        for start in range(0, len(members), translator.batch_size):
            batch = members[start:start + translator.batch_size]
            batches.append((batch, target))
            jobs.append(translator.translate([v.text for v in batch], source, target))
    results = await asyncio.gather(*jobs)
    out, failed = [], 0
    for (batch, target), translated in zip(batches, results, strict=True):
        for view, text in zip(batch, translated, strict=True):
            toks = tokens(text) if not isinstance(text, Failed) else []
            if not toks:
                failed += 1
                continue
            out.append(View(view.benchmark, view.item, target, toks, translated=True, text=text))
    return out, failed


def _translator(config: DecontamConfig, client: LLMClient | None) -> Any:
    """The translator for the cross-lingual step: the LLM client (temperature 0, cached) or MarianMT."""
    from datacraft.augment.config import BacktranslateConfig

    if config.translator == "marian":
        from datacraft.augment.marian import MarianTranslator, parse_model_dirs

        return MarianTranslator(parse_model_dirs(config.model_dirs), BacktranslateConfig(
            translator="marian", max_length=config.marian_max_length))
    from datacraft.augment.translate import LLMTranslator

    assert client is not None, "_check makes sure an LLM is configured"
    return LLMTranslator(client, BacktranslateConfig(temperature=0.0))


def _check(inputs: list[str], against: list[str], targets: list[str | None], config: DecontamConfig,
           llm: LLMConfig | None) -> None:
    if not inputs:
        raise ConfigError("no input files given (use - to read stdin)")
    if not against:
        raise ConfigError("no eval set given: pass --against EVAL (repeatable)")
    for path in inputs + against:
        if path != "-" and not Path(path).exists():
            raise InputError(path, "file not found")
    if "-" in against:
        raise ConfigError("--against cannot be stdin: eval sets are read before the training data")
    needs_llm = (config.cross_lingual and config.translator == "llm") or config.judge
    if needs_llm and llm is None:
        step = "--cross-lingual" if config.cross_lingual and config.translator == "llm" else "--judge"
        raise ConfigError(f"{step} needs an LLM endpoint: pass --model NAME (and --base-url URL)")
    given = [t for t in targets if t]
    for target in given:
        check_not_input(target, inputs + against)
    if len({t for t in given if t != "-"}) < len([t for t in given if t != "-"]):
        raise ConfigError("the output, --rejects and --report files must differ")


class Session:
    """Eval sets loaded and translated once, the judge's client open; `stage(ledger)` makes the stage.

    `with Session(...) as session:` closes the client, its event loop and the response cache.
    """

    def __init__(self, against: list[str], config: DecontamConfig, llm: LLMConfig | None, *,
                 read_options: dict[str, Any] | None = None, strict: bool = False, cache: Path | None = None):
        self.config, self.llm, self.cache_path = config, llm, cache
        self.views, self.counts, self.unreadable = load_eval_sets(against, config, read_options, strict)
        if not self.views:
            raise InputError(against[0], "no eval items with text in the --against files")
        self.loop = asyncio.new_event_loop()
        self.client: LLMClient | None = None
        self.store: ResponseCache | None = None
        self.translated: list[View] = []
        self.failed = 0

    def __enter__(self) -> Session:
        try:
            if self.llm is not None:
                if self.llm.use_cache and (self.llm.cache or self.cache_path):
                    self.store = ResponseCache(self.llm.cache or self.cache_path)
                self.client = LLMClient(self.llm, cache=self.store)
            if self.config.cross_lingual:
                translator = _translator(self.config, self.client)
                self.translated, self.failed = self.loop.run_until_complete(
                    translate_views(self.views, translator, self.config.translate_to))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.client is not None:
            self.loop.run_until_complete(self.client.aclose())
            self.client = None
        if not self.loop.is_closed():
            self.loop.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    def stage(self, ledger: Ledger) -> Decontaminator:
        return Decontaminator(self.views, self.translated, self.config, ledger, self.client, self.loop)

    def report(self, stage: Decontaminator) -> dict[str, Any]:
        """Per-benchmark rates, judge verdicts, translation and unreadable-row counts, the settings."""
        report = stage.report(self.counts, stage.stats.read)
        for name, problems in self.unreadable.items():
            report["benchmarks"][name]["unreadable_rows"] = len(problems)
            report["benchmarks"][name]["first_unreadable"] = problems[0] if problems else None
        report["translation"] = {"views": len(self.translated), "failed": self.failed} if self.config.cross_lingual else None
        report["settings"] = self.config.model_dump()
        return report


def write_report(path: str, report: dict[str, Any]) -> None:
    with atomic_write(path, "wb") as handle:
        handle.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def decontaminate_file(inputs: Sequence[str], output: str, *, against: Sequence[str], rejects: str | None = None,
                       report: str | None = None, config: DecontamConfig | None = None, llm: LLMConfig | None = None,
                       read_options: dict[str, Any] | None = None, strict: bool = False) -> dict[str, Any]:
    """Remove training records that copy an eval item; returns counts and the per-benchmark report."""
    config = config or DecontamConfig()
    inputs, against = list(inputs), list(against)
    _check(inputs, against, [output, rejects, report], config, llm)
    started = time.perf_counter()
    cache = Path(f"{output}.run") / "cache.sqlite" if output != "-" else None
    with Session(against, config, llm, read_options=read_options, strict=strict, cache=cache) as session:
        with RejectSink(rejects) as sink:
            ledger = Ledger(sink)
            ledger.stage("read")
            stage = session.stage(ledger)
            kept = write_records(output, chain(read_stage(inputs, ledger, strict=strict, **(read_options or {})), stage))
        result = ledger.to_dict(kept)
        result["report"] = session.report(stage)
        if session.client is not None:
            result["usage"] = session.client.usage.to_dict()
    result["seconds"] = round(time.perf_counter() - started, 3)
    if report:
        write_report(report, result["report"])
    return result
