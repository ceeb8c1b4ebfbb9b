"""The decontamination stage: `Iterable[Record] -> Iterator[Record]`, holding the eval indexes and the judge.

Per record: a whole prompt or turn equal to a short eval item, else the best n-gram or rare-word
candidate diffed in a window; a copy when the matched share and count clear the thresholds;
otherwise, with the judge on, borderline and reworded candidates are asked about, a block at a
time so the requests run concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

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
from datacraft.decontam.text import all_text, prompt_parts
from datacraft.dedupe.normalize import exact_key, normalize
from datacraft.llm import LLMClient
from datacraft.records import Record
from datacraft.stages import Ledger

STAGE = "decontaminate"
EVAL_OVERLAP = "eval_overlap"
EVAL_OVERLAP_TRANSLATED = "eval_overlap_translated"
EVAL_JUDGED_SAME = "eval_judged_same"


class Decontaminator:
    """The stage: `Iterable[Record] -> Iterator[Record]`, holding the eval indexes and the judge client."""

    def __init__(self, views: list[View], translated: list[View], config: DecontamConfig, ledger: Ledger,
                 client: LLMClient | None = None, loop: asyncio.AbstractEventLoop | None = None):
        self.config, self.ledger, self.client, self.loop = config, ledger, client, loop
        self.stats = ledger.stage(STAGE)
        # Items too short to be evidence inside a longer text ("道歉。", "Friendship") count only when a
        # prompt is the item itself; the rest go to the n-gram and rare-word indexes.
        self.prompts = {exact_key(normalize(v.text)): v for v in views + translated if self._short(v)}
        self.short_items = Counter(v.benchmark for v in views if self._short(v))
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

    def _copy(self, match: Match) -> bool:
        return match.fraction >= self.config.threshold and (
            match.method == "prompt" or match.matched >= self._min_match(match.view))

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
        results = [self._classify(record) for record in block]
        verdicts = [verdict for verdict, _ in results]
        pending = [(position, match) for position, (_, match) in enumerate(results) if match is not None]
        if pending:
            self._judge(block, verdicts, pending)
        self.stats.seconds += time.perf_counter() - started
        for record, verdict in zip(block, verdicts, strict=True):
            self.stats.read += 1
            if verdict is None:
                self.stats.kept += 1
                yield record
            else:
                self._reject(record, *verdict)

    def _classify(self, record: Record) -> tuple[tuple[str, Match] | None, Match | None]:
        """(reason and match when the record is a copy, else None; the candidate to ask the judge about)."""
        toks = tokens(all_text(record))
        best = (self._prompt_match(record) if self.prompts else None) or self._best(toks)
        near = self.neighbours.nearest(toks) if self.neighbours is not None else None
        if near is not None and self.config.word_candidates is not None and near[1] >= self.config.word_candidates:
            diffed = best_window(near[0], toks)
            diffed.method = "words"
            if best is None or diffed.fraction > best.fraction:
                best = diffed
        if best is not None and self._copy(best):
            return (EVAL_OVERLAP_TRANSLATED if best.view.translated else EVAL_OVERLAP, best), None
        if self.client is None or not self.config.judge:
            return None, None
        if best is not None and best.fraction >= self.config.judge_low:
            return None, best
        if near is not None and self.config.judge_similarity is not None and near[1] >= self.config.judge_similarity:
            return None, Match(near[0], 0.0, "", "words")
        return None, None

    def _judge(self, block: list[Record], verdicts: list[tuple[str, Match] | None],
               pending: list[tuple[int, Match]]) -> None:
        """Ask the judge about every pending candidate of the block at once; a "same" becomes a verdict."""
        assert self.loop is not None
        pairs = [(match.view.text, all_text(block[position])) for position, match in pending]
        answers = self.loop.run_until_complete(self._ask(pairs))
        for (position, match), (same, reason) in zip(pending, answers, strict=True):
            self.judged["same" if same else "unreadable" if same is None else "different"] += 1
            if same:
                match.span, match.method = match.span or reason, f"judge ({match.method})"
                verdicts[position] = (EVAL_JUDGED_SAME, match)

    def _reject(self, record: Record, reason: str, match: Match) -> None:
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
            benchmarks[name] = {"items": items, "short_items": self.short_items.get(name, 0), "contaminated_items": found,
                                "contamination_rate": round(found / items, 4) if items else 0.0,
                                "training_records_dropped": sum(reasons.values()), "by_reason": reasons}
        dropped = self.stats.dropped
        return {"benchmarks": benchmarks, "training": {
            "records": read, "dropped": dropped, "dropped_rate": round(dropped / read, 4) if read else 0.0},
            "judge": dict(self.judged)}
