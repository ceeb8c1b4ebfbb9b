"""`decontaminate_file`: drop training records that copy an eval item, and report rates per benchmark.

Three steps, each catching what the one before misses:
1. n-gram candidates, then the matched fraction of the eval item (GPT-3, Phi-1/Cosmopedia);
2. the same match against each eval item translated once through the LLM client (cached), so a
   back-translated benchmark item does not pass (LMSYS's translated samples);
3. optionally an LLM judge for borderline candidates: a matched fraction between `judge_low` and
   `threshold`, or no shared n-gram but most of the eval item's rare words (LMSYS's rephrasings).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from datacraft.decontam.config import DecontamConfig
from datacraft.decontam.judge import judge
from datacraft.decontam.overlap import (
    Match,
    NeighbourIndex,
    NgramIndex,
    View,
    best_window,
    dynamic_n,
    is_cjk_tokens,
    join_tokens,
    tokens,
)
from datacraft.decontam.text import all_text, prompt_parts, prompt_text
from datacraft.dedupe.normalize import exact_key, normalize
from datacraft.errors import ConfigError, InputError
from datacraft.io.readers import iter_records
from datacraft.io.writers import atomic_write, check_not_input, write_records
from datacraft.llm import LLMClient, ResponseCache
from datacraft.llm.config import LLMConfig
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, chain, read_stage
from datacraft.textutil import language

STAGE = "decontaminate"
EVAL_OVERLAP = "eval_overlap"
EVAL_OVERLAP_TRANSLATED = "eval_overlap_translated"
EVAL_JUDGED_SAME = "eval_judged_same"


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


class Decontaminator:
    """The stage: `Iterable[Record] -> Iterator[Record]`, holding the eval indexes and the judge client."""

    def __init__(self, views: list[View], translated: list[View], config: DecontamConfig, ledger: Ledger,
                 client: LLMClient | None = None, loop: asyncio.AbstractEventLoop | None = None):
        self.config, self.ledger, self.client, self.loop = config, ledger, client, loop
        self.stats = ledger.stage(STAGE)
        # Items too short to be evidence inside a longer text ("道歉。", "Friendship") count only when a
        # prompt is the item itself; the rest go to the n-gram and rare-word indexes.
        self.prompts = {exact_key(normalize(v.text)): v for v in views + translated if self._short(v)}
        views = [v for v in views if not self._short(v)]
        translated = [v for v in translated if not self._short(v)]
        self.index = self._index(views, config.ngram_word, config.ngram_cjk)
        self.translated = self._index(translated, config.ngram_translated, config.ngram_translated) if translated else None
        wanted = config.word_candidates is not None or (config.judge and config.judge_similarity is not None)
        self.neighbours = NeighbourIndex(views + translated) if wanted else None
        self.found: dict[str, set[str]] = defaultdict(set)  # benchmark -> eval items found in training
        self.rejected: dict[str, Counter[str]] = defaultdict(Counter)  # benchmark -> reason -> records
        self.judged: Counter[str] = Counter()

    def _min_match(self, view: View) -> int:
        return self.config.min_match_cjk if is_cjk_tokens(view.tokens) else self.config.min_match_word

    def _short(self, view: View) -> bool:
        return len(view.tokens) < self._min_match(view)

    def _copy(self, match: Match | None) -> bool:
        return (match is not None and match.fraction >= self.config.threshold
                and (match.method == "prompt" or match.matched >= self._min_match(match.view)))

    def _prompt_match(self, record: Record) -> Match | None:
        for part in prompt_parts(record):
            view = self.prompts.get(exact_key(normalize(part)))
            if view is not None:
                return Match(view, 1.0, join_tokens(view.tokens), "prompt", len(view.tokens))
        return None

    def _index(self, views: list[View], n_word: int, n_cjk: int) -> NgramIndex:
        index = NgramIndex(n_word, n_cjk)
        lengths: dict[tuple[str, bool], list[int]] = defaultdict(list)
        for v in views:
            lengths[(v.benchmark, is_cjk_tokens(v.tokens))].append(len(v.tokens))
        sizes = {key: dynamic_n(ls, n_cjk if key[1] else n_word) for key, ls in lengths.items()}
        for v in views:
            index.add(v, sizes[(v.benchmark, is_cjk_tokens(v.tokens))] if self.config.dynamic_n else None)
        return index

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        block: list[Record] = []
        for record in records:
            block.append(record)
            if len(block) >= self.config.block_size:
                yield from self._block(block)
                block = []
        if block:
            yield from self._block(block)

    def _block(self, block: list[Record]) -> Iterator[Record]:
        started = time.perf_counter()
        verdicts: list[tuple[str, Match] | None] = []
        borderline: list[tuple[int, Match, str]] = []
        for position, record in enumerate(block):
            text = all_text(record)
            toks = tokens(text)
            best = self._prompt_match(record) if self.prompts else None
            best = best or self._best(toks)
            near = self.neighbours.nearest(toks) if self.neighbours is not None else None
            if near is not None and self.config.word_candidates is not None and near[1] >= self.config.word_candidates:
                diffed = best_window(near[0], toks)
                diffed.method = "words"
                if best is None or diffed.fraction > best.fraction:
                    best = diffed
            if self._copy(best):
                assert best is not None
                verdicts.append((EVAL_OVERLAP_TRANSLATED if best.view.translated else EVAL_OVERLAP, best))
                continue
            verdicts.append(None)
            if self.client is None or not self.config.judge:
                continue
            if best is not None and best.fraction >= self.config.judge_low:
                borderline.append((position, best, text))
            elif near is not None and self.config.judge_similarity is not None:
                if near[1] >= self.config.judge_similarity:
                    borderline.append((position, Match(near[0], 0.0, "", "words"), text))
        if borderline:
            assert self.loop is not None
            answers = self.loop.run_until_complete(self._ask([(m.view.text, text) for _, m, text in borderline]))
            for (position, match, _), (same, reason) in zip(borderline, answers, strict=True):
                self.judged["same" if same else "unreadable" if same is None else "different"] += 1
                if same:
                    match.span, match.method = match.span or reason, f"judge ({match.method})"
                    verdicts[position] = (EVAL_JUDGED_SAME, match)
        self.stats.seconds += time.perf_counter() - started
        for record, verdict in zip(block, verdicts, strict=True):
            self.stats.read += 1
            if verdict is None:
                self.stats.kept += 1
                yield record
                continue
            reason, match = verdict
            view = match.view
            self.found[view.benchmark].add(view.item)
            self.rejected[view.benchmark][reason] += 1
            rid = record.get("id")
            self.ledger.reject(STAGE, reason, record=record, source=str(rid) if rid is not None else None,
                               detail=f"copies {view.benchmark} item {view.item} ({match.fraction:.0%} matched)",
                               benchmark=view.benchmark, eval_id=view.item, eval_text=view.text,
                               matched_fraction=round(match.fraction, 3), span=match.span, method=match.method)

    async def _ask(self, pairs: list[tuple[str, str]]) -> list[tuple[bool | None, str]]:
        assert self.client is not None
        return await asyncio.gather(*(judge(self.client, a, b, self.config.judge_prompt) for a, b in pairs))

    def _best(self, toks: list[str]) -> Match | None:
        found = [m for m in (self.index.best(toks), self.translated.best(toks) if self.translated else None) if m]
        return max(found, key=lambda m: m.fraction) if found else None

    def report(self, counts: dict[str, int], read: int) -> dict[str, Any]:
        """Per benchmark: items, items found in the training data, their share, records dropped per reason."""
        benchmarks = {}
        for name, items in counts.items():
            found = len(self.found.get(name, ()))
            reasons = dict(self.rejected.get(name, Counter()))
            benchmarks[name] = {"items": items, "contaminated_items": found,
                                "contamination_rate": round(found / items, 4) if items else 0.0,
                                "training_records_dropped": sum(reasons.values()), "by_reason": reasons}
        dropped = self.stats.dropped
        return {"benchmarks": benchmarks, "training": {
            "records": read, "dropped": dropped, "dropped_rate": round(dropped / read, 4) if read else 0.0},
            "judge": dict(self.judged)}


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


def decontaminate_file(inputs: Sequence[str], output: str, *, against: Sequence[str], rejects: str | None = None,
                       report: str | None = None, config: DecontamConfig | None = None, llm: LLMConfig | None = None,
                       read_options: dict[str, Any] | None = None, strict: bool = False) -> dict[str, Any]:
    """Remove training records that copy an eval item; returns counts and the per-benchmark report."""
    config = config or DecontamConfig()
    inputs, against = list(inputs), list(against)
    _check(inputs, against, [output, rejects, report], config, llm)
    started = time.perf_counter()
    views, counts, unreadable = load_eval_sets(against, config, read_options, strict)
    if not views:
        raise InputError(against[0], "no eval items with text in the --against files")
    loop = asyncio.new_event_loop()
    client, store = None, None
    try:
        translated, failed = [], 0
        if llm is not None:
            if llm.use_cache and (llm.cache or output != "-"):
                store = ResponseCache(llm.cache or Path(f"{output}.run") / "cache.sqlite")
            client = LLMClient(llm, cache=store)
        if config.cross_lingual:
            translator = _translator(config, client)
            translated, failed = loop.run_until_complete(translate_views(views, translator, config.translate_to))
        with RejectSink(rejects) as sink:
            ledger = Ledger(sink)
            ledger.stage("read")
            stage = Decontaminator(views, translated, config, ledger, client, loop)
            kept = write_records(output, chain(read_stage(inputs, ledger, strict=strict, **(read_options or {})), stage))
    finally:
        if client is not None:
            loop.run_until_complete(client.aclose())
        loop.close()
        if store is not None:
            store.close()
    result = ledger.to_dict(kept)
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["report"] = stage.report(counts, ledger.stage(STAGE).read)
    for name, problems in unreadable.items():
        result["report"]["benchmarks"][name]["unreadable_rows"] = len(problems)
        result["report"]["benchmarks"][name]["first_unreadable"] = problems[0] if problems else None
    result["report"]["translation"] = {"views": len(translated), "failed": failed} if config.cross_lingual else None
    result["report"]["settings"] = config.model_dump()
    if client is not None:
        result["usage"] = client.usage.to_dict()
    if report:
        with atomic_write(report, "wb") as handle:
            handle.write(orjson.dumps(result["report"], option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return result


def run_pipeline_stage(settings: dict[str, Any], source: str, output: str, rejects: str, base: Path) -> dict[str, Any]:
    """The `decontaminate` stage of `datacraft run`: `against` (paths relative to the pipeline file),
    an optional `llm` section for the cross-lingual and judge steps, and DecontamConfig keys."""
    from datacraft.config import validate_section
    from datacraft.llm.config import resolve_llm_config

    settings = dict(settings)
    against = settings.pop("against", None)
    if not against:
        raise ConfigError("decontaminate stage: `against` must list at least one eval file")
    against = [against] if isinstance(against, str) else against
    llm_section = settings.pop("llm", None)
    config = validate_section(DecontamConfig, settings, "decontaminate stage")
    llm = resolve_llm_config(llm_section, where="decontaminate stage: llm") if llm_section else None
    result = decontaminate_file([source], output, against=[str(base / p) for p in against], rejects=rejects,
                                report=str(Path(output).with_suffix(".report.json")), config=config, llm=llm)
    result["stages"].pop("read", None)  # the pipeline's own read stage counted these rows already
    return result
