"""`augment_file`: read records, add augmented copies (synonym, backtranslate, paraphrase, EDA, mix), guard, write.

Records flow in blocks of `block_size`: back-translation and paraphrase batches, judge requests
and mixing partners come from one block, everything else is per record. Each original is written (unless `replace`), followed by
its accepted copies; mixed records follow their block. Every random choice comes from a generator
seeded with (seed, method, record id, copy), so the same input and seed give the same output
whatever the block size, and an LLM rerun asks the same requests (answered by the cache).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from itertools import islice
from pathlib import Path
from typing import Any

from datacraft.augment.backtranslate import BackTranslator
from datacraft.augment.base import Rewrite
from datacraft.augment.chat import FORM_KEY, from_view, to_view
from datacraft.augment.clients import make_resources
from datacraft.augment.config import EDA_METHODS, AugmentConfig
from datacraft.augment.guard import Guard
from datacraft.augment.mix import MODES, Mixed
from datacraft.augment.synonyms import SynonymReplacer
from datacraft.augment.translate import Translator
from datacraft.augment.turns import TextView
from datacraft.clean import CleanConfig
from datacraft.errors import ConfigError
from datacraft.io.writers import JsonlWriter, check_not_input
from datacraft.llm import Budget, LLMClient, LLMConfig
from datacraft.records import Record, compare_text
from datacraft.stages import Ledger, RejectSink, read_stage

_SHORT = {"synonym": "syn", "backtranslate": "bt", "paraphrase": "para"}


def rng_for(seed: int, method: str, record_id: Any, copy: int = 0) -> random.Random:
    """The random generator for one record copy: independent of order and block size.

    >>> rng_for(0, "synonym", "a:1").random() == rng_for(0, "synonym", "a:1").random()
    True
    """
    return random.Random(f"{seed}:{method}:{record_id}:{copy}")  # str seeds hash with SHA-512: stable across runs


def derive(source: Record, fields: dict[str, str], method: str, copy: int, info: dict[str, Any]) -> Record:
    """A copy of `source` with new field values, a new id and `meta.augmented_from`/`meta.method`.

    `source` may be a TextView: the copy is then its record, in its own form, with the slots rewritten.
    """
    body = source.apply(fields) if isinstance(source, TextView) else {**source, **fields}
    if isinstance(source, TextView):
        source = source.record
    record = {k: v for k, v in body.items() if k not in ("id", "meta")}
    record["id"] = f"{source.get('id')}#{_SHORT.get(method, method)}{copy + 1}"
    meta = {k: v for k, v in (source.get("meta") or {}).items() if k not in ("augment",)}
    meta.update({"augmented_from": source.get("id"), "method": method, "augment": info})
    record["meta"] = meta
    return record


class Augmenter:
    """Augments blocks of records; holds the methods' resources and the LLM event loop."""

    def __init__(self, config: AugmentConfig, ledger: Ledger, *, clean: CleanConfig | None = None,
                 translator: Translator | None = None, synonyms: SynonymReplacer | None = None,
                 client: LLMClient | None = None):
        self.config = config
        self.ledger = ledger
        self.guard = Guard(config.guard, clean)
        for method in config.methods:
            ledger.stage(method)  # in method order, right after "read"
        self.synonyms = synonyms or SynonymReplacer(config.synonym, fields=config.fields,
                                                    protect_factual=config.protect_factual)
        self.local: dict[str, Callable[[Record, random.Random], Rewrite]] = {"synonym": self.synonyms}
        for method in EDA_METHODS:
            if method in config.methods:
                from datacraft.augment.eda import Eda

                self.local[method] = Eda(method, config.eda, protect_factual=config.protect_factual,
                                         synonyms=self.synonyms.curated)
        # The methods that ask an LLM (or a local model) for a whole block at once.
        self.batched: dict[str, BackTranslator] = {}
        if translator is not None and "backtranslate" in config.methods:
            self.batched["backtranslate"] = BackTranslator(translator, config.backtranslate, fields=config.fields,
                                                           protect_factual=config.protect_factual, copies=config.copies)
        if client is not None and "paraphrase" in config.methods:
            from datacraft.augment.paraphrase import LLMParaphraser, Paraphraser

            self.batched["paraphrase"] = Paraphraser(LLMParaphraser(client, config.paraphrase, seed=config.seed),
                                                     config.paraphrase, fields=config.fields,
                                                     protect_factual=config.protect_factual, copies=config.copies)
        self.backtranslator = self.batched.get("backtranslate")
        self.judge = None
        if client is not None and config.judge.enabled:
            from datacraft.augment.judge import CopyJudge

            self.judge = CopyJudge(client, config.judge)
        # One event loop, in its own thread, for the whole run: the LLM client's connections belong
        # to it, and the next block's translations can start while this block is written.
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if self.batched or self.judge is not None:
            self.loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self.loop.run_forever, name="augment-translate", daemon=True)
            self._thread.start()
        self._pending: list[Future[Any]] = []
        self.blocks = 0
        self.originals = 0

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on the translation loop and wait for it."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self, last: Any = None) -> None:
        """Cancel translations still running (an interrupted run), run `last` (closing the client), stop the loop."""
        if self.loop is None or self._thread is None:
            return
        for future in self._pending:
            future.cancel()
        try:
            if last is not None:
                self.run(last)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()

    def prefetch(self, records: list[Record]) -> dict[str, Future[Any]] | None:
        """Start the batched methods (back-translation, paraphrase) on a block now; `block()` collects them."""
        if not self.batched or self.loop is None:
            return None
        futures = {method: asyncio.run_coroutine_threadsafe(worker.rewrite(records), self.loop)
                   for method, worker in self.batched.items()}
        self._pending.extend(futures.values())
        return futures

    def _collect(self, records: list[Record], futures: dict[str, Future[Any]] | None) -> dict[str, list[list[Rewrite]]]:
        futures = futures or self.prefetch(records) or {}
        results = {}
        for method, future in futures.items():
            started = time.perf_counter()
            results[method] = future.result()
            self._pending.remove(future)
            self.ledger.stage(method).seconds += time.perf_counter() - started
        return results

    def block(self, records: list[TextView], pending: dict[str, Future[Any]] | None = None) -> Iterator[Record]:
        """The output records for one block of views, in order; rejects go to the ledger."""
        config = self.config
        batched = self._collect(records, pending)
        copies: list[list[tuple[str, Record]]] = [[] for _ in records]
        for index, source in enumerate(records):
            seen = {compare_text(source.record)}
            for method in config.methods:
                if method == "mix":
                    continue
                for copy in range(config.copies):
                    started = time.perf_counter()
                    if method in self.local:
                        rewrite = self.local[method](source, rng_for(config.seed, method, source.record.get("id"), copy))
                    else:
                        rewrite = batched[method][index][copy]
                        rewrite.info.setdefault("translator", self.batched[method].translator.name)
                    accepted = self._accept(method, source, rewrite, copy, seen)
                    self.ledger.stage(method).seconds += time.perf_counter() - started
                    if accepted is not None:
                        copies[index].append((method, accepted))
        if self.judge is not None:
            self._judge(records, copies)
        for index, source in enumerate(records):
            if not config.replace:
                self.originals += 1
                yield source.record
            for method, accepted in copies[index]:
                self.ledger.stage(method).kept += 1
                yield accepted
        if "mix" in config.methods:
            started = time.perf_counter()
            mixed = list(self._mix(records))
            self.ledger.stage("mix").seconds += time.perf_counter() - started
            yield from mixed
        self.blocks += 1

    def _judge(self, records: list[TextView], copies: list[list[tuple[str, Record]]]) -> None:
        """Ask the judge about every copy of the block; drop (to the rejects) the ones it says no to."""
        assert self.judge is not None
        asked = [(index, method, copy) for index, found in enumerate(copies) for method, copy in found]
        started = time.perf_counter()
        verdicts = self.run(self.judge.check([(records[index], TextView(copy, self.config.roles)) for index, _, copy in asked]))
        spent = (time.perf_counter() - started) / max(1, len(asked))
        for (index, method, copy), verdict in zip(asked, verdicts, strict=True):
            self.ledger.stage(method).seconds += spent
            if verdict.ok:
                copy["meta"]["augment"]["judge"] = verdict.reason or "ok"
                continue
            reason = "judge_rejected" if verdict.ok is False else (
                "budget_exhausted" if verdict.reason.startswith("budget exhausted") else "judge_unreadable")
            copies[index].remove((method, copy))
            self.ledger.reject(method, reason, record=copy, detail=verdict.reason, source=str(records[index].record.get("id")))

    def _accept(self, method: str, source: TextView, rewrite: Rewrite, copy: int, seen: set[str]) -> Record | None:
        stats = self.ledger.stage(method)
        stats.read += 1
        if rewrite.failure is not None:
            self.ledger.reject(method, rewrite.failure.reason, record=source.record, detail=rewrite.failure.detail,
                               source=str(source.record.get("id")))
            return None
        candidate = derive(source, rewrite.fields, method, copy, rewrite.info)
        fields = list(rewrite.fields)
        return self._check(method, candidate, source.record, seen,
                           lambda: self.guard.drift({**source, **rewrite.fields}, source, fields, source.groups(fields)))

    def _check(self, method: str, candidate: Record, source: Record, seen: set[str],
               drift: Callable[[], tuple[bool, str, str]] | None = None) -> Record | None:
        """The guard (the clean filters on the copy, then `drift`), then the duplicate check against `seen`."""
        ok, reason, detail = self.guard.quality(candidate)
        if ok and drift is not None:
            ok, reason, detail = drift()
        text = compare_text(candidate)
        if ok and text in seen:
            ok, reason, detail = False, "duplicate_copy", "the same as the source or another copy"
        if not ok:
            self.ledger.reject(method, reason, record=candidate, detail=detail, source=str(source.get("id")))
            return None
        seen.add(text)
        return candidate

    def _mix(self, views: list[TextView]) -> Iterator[Record]:
        # Mixing combines whole single-turn tasks: it sees each record through its Alpaca view
        # (records with tool calls have none and are not mixed), and writes in the first source's form.
        records = [to_view(v.record) for v in views]
        by_id = {str(r.get("id")): v.record for r, v in zip(records, views, strict=True)}
        forms = {str(r.get("id")): r.get(FORM_KEY) for r in records}
        for mode in self.config.mix.modes:
            rng = random.Random(f"{self.config.seed}:mix:{mode}:{self.blocks}")
            for number, mixed in enumerate(MODES[mode](records, self.config.mix, rng)):
                self.ledger.stage("mix").read += 1
                form = forms.get(mixed.sources[0])
                if form is not None:
                    mixed.record = from_view({**mixed.record, FORM_KEY: form})
                record = self._mixed_record(mixed, number)
                first = by_id[mixed.sources[0]]
                seen = {compare_text(by_id[s]) for s in mixed.sources if s in by_id}
                accepted = self._check("mix", record, first, seen)
                if accepted is not None:
                    self.ledger.stage("mix").kept += 1
                    yield accepted

    def _mixed_record(self, mixed: Mixed, number: int) -> Record:
        record = dict(mixed.record)
        record["id"] = f"mix:{self.blocks}:{mixed.mode}:{number + 1}"
        record["meta"] = {"augmented_from": mixed.sources if len(mixed.sources) > 1 else mixed.sources[0],
                          "method": "mix", "augment": {"mode": mixed.mode}}
        return record


def views(records: Iterable[Record], config: AugmentConfig) -> Iterator[TextView]:
    """Each record as the methods see it: its text turns of the configured roles."""
    roles = tuple(config.roles)
    return (TextView(record, roles) for record in records)


def _emit(augmenter: Augmenter, writer: JsonlWriter, block: list[Record], translation: Future[Any] | None) -> int:
    for record in augmenter.block(block, translation):
        writer.write(record)
    return len(block)


def _blocks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while block := list(islice(iterator, size)):
        yield block


def augment_file(inputs: Sequence[str], output: str, *, rejects: str | None = None, config: AugmentConfig | None = None,
                 clean: CleanConfig | None = None, llm: LLMConfig | None = None, translator: Translator | None = None,
                 read_options: dict | None = None, strict: bool = False,
                 progress: Callable[[int], None] | None = None, budget: Budget | None = None) -> dict[str, Any]:
    """Augment `inputs` into `output` (JSONL, atomic); drops go to `rejects`. Returns the counts.

    Back-translation needs `translator`, or `llm` (an endpoint) or `config.backtranslate.translator
    == "marian"` with model folders. LLM replies are cached in `<output>.run/cache.sqlite` (or
    `llm.cache`), so an interrupted run costs nothing to repeat.
    """
    config = config or AugmentConfig()
    inputs = [str(p) for p in inputs]
    _check_paths(inputs, output, rejects, config)
    translator, client, store = make_resources(config, llm, output, translator, budget)
    augmenter: Augmenter | None = None
    try:
        with RejectSink(rejects) as sink, JsonlWriter(output) as writer:
            ledger = Ledger(sink)
            records = views(read_stage(inputs, ledger, strict=strict, **dict(read_options or {})), config)
            augmenter = Augmenter(config, ledger, clean=clean, translator=translator, client=client)
            done = 0
            waiting: deque[tuple[list[Record], Future[Any] | None]] = deque()
            for block in _blocks(records, config.block_size):
                # One block ahead: its requests fill the endpoint's free slots while this block's last replies arrive.
                waiting.append((block, augmenter.prefetch(block)))
                if len(waiting) > 1:
                    done += _emit(augmenter, writer, *waiting.popleft())
                    if progress is not None:
                        progress(done)
            while waiting:
                done += _emit(augmenter, writer, *waiting.popleft())
                if progress is not None:
                    progress(done)
    finally:
        if augmenter is not None:
            augmenter.close(client.aclose() if client is not None and augmenter.loop is not None else None)
        if store is not None:
            store.close()
    result = ledger.to_dict(writer.count)
    result["originals"] = augmenter.originals
    result["methods"] = {m: {"produced": s.kept, "rejected": s.dropped, "reasons": dict(s.rejected.most_common())}
                         for m, s in ledger.stages.items() if m != "read"}
    if translator is not None:
        result["translator"] = translator.name
    if client is not None:
        result["usage"] = client.usage.to_dict()
    return result


def _check_paths(inputs: list[str], output: str, rejects: str | None, config: AugmentConfig) -> None:
    """Reject conflicting options before any work starts."""
    if not inputs:
        raise ConfigError("no input files given (use - to read stdin)")
    if inputs.count("-") > 1:
        raise ConfigError("stdin (-) can be read only once")
    if not config.methods:
        raise ConfigError("no augmentation method chosen: pass --method synonym (or backtranslate, paraphrase, swap, delete, insert, noise, mix)")
    for path, what in ((output, "output"), (rejects, "--rejects")):
        if path not in (None, "-") and Path(path).is_dir():
            raise ConfigError(f"{what} {path} is a directory; give a file name, e.g. {Path(path) / 'augmented.jsonl'}")
    check_not_input(output, inputs)
    if rejects is not None:
        check_not_input(rejects, inputs)
        if rejects == output or (rejects != "-" and output != "-" and Path(rejects).resolve() == Path(output).resolve()):
            raise ConfigError(f"--rejects {rejects} is the same file as the output; give it another name")

