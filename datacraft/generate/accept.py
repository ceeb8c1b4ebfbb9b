"""Judge the items of one reply: Alpaca schema, clean filters, novelty. Pure bookkeeping, no I/O."""

from __future__ import annotations

from typing import Any

from datacraft.clean import CleanConfig, Normalizer, record_filter
from datacraft.generate.grounding import check_grounded
from datacraft.generate.novelty import NoveltyChecker
from datacraft.generate.parse import to_record
from datacraft.generate.requests import Outcome
from datacraft.records import Record
from datacraft.validate import validate_record

RAW_LIMIT = 4000  # characters of an unusable reply kept in the rejects file


class ItemChecker:
    """`split(outcome, round, feedback)` -> (accepted records with id/meta, rejected entries); novelty remembers the accepted."""

    def __init__(self, clean: CleanConfig, novelty: NoveltyChecker, model: str, min_support: float | None = None):
        self.normalize = Normalizer(clean.normalize)
        self.keep = record_filter(clean.filters)
        self.novelty = novelty
        self.model = model
        self.min_support = min_support  # --from-docs: grounding threshold (None: language check only)

    def split(self, outcome: Outcome, round_number: int, feedback: str | None) -> tuple[list[Record], list[dict[str, Any]]]:
        accepted: list[Record] = []
        rejected: list[dict[str, Any]] = []
        source = f"request:{outcome.k}"
        if outcome.failure is not None:
            rejected.append({"reason": outcome.failure.reason, "detail": outcome.failure.detail, "source": source})
            return accepted, rejected
        reply = outcome.completions[-1].text if outcome.completions else ""
        parsed = outcome.parsed
        if not parsed.ok:
            rejected.append({"reason": parsed.reason or "unusable_reply", "detail": parsed.error or "",
                             "source": source, "raw": reply[:RAW_LIMIT]})
            return accepted, rejected
        if parsed.partial:
            reason = "truncated_item" if outcome.finish_reason == "length" else "unparsed_fragment"
            rejected.append({"reason": reason, "detail": "part of the reply could not be read as an item",
                             "source": source, "raw": reply[-500:]})
        checked, sketch = outcome.checked if outcome.checked is not None else (self._check_items(outcome), None)
        candidates = [index for index, (record, _) in enumerate(checked) if record is not None]
        keys = [f"gen-{outcome.k}-{index}" for index in candidates]
        novel = self.novelty.check_many([self.novelty_view(checked[i][0]) for i in candidates], keys, sketch=sketch)
        verdicts = dict(zip(candidates, novel, strict=True))
        for index, (record, problem) in enumerate(checked):
            if record is not None:
                ok, reason, detail = verdicts[index]
                if not ok:
                    problem = {"reason": reason, "detail": detail}
            if record is None or problem:
                rejected.append({**problem, "source": source, "record": parsed.items[index]})
                continue
            record["id"] = f"gen-{outcome.k}-{index}"
            record["meta"] = self._meta(outcome, round_number, feedback)
            accepted.append(record)
        return accepted, rejected

    def prepare(self, outcomes: list[Outcome]) -> None:
        """Do the part of `split` that depends on nothing remembered, for several replies at once.

        Schema, normalisation and clean filters per item, and one MinHash sketch for the items of
        all these replies (sketching costs mostly per call); `split` then only compares them with
        what was accepted before. Sets `outcome.checked`.
        """
        work = [(outcome, self._check_items(outcome)) for outcome in outcomes
                if outcome.checked is None and outcome.failure is None and outcome.parsed.ok]
        records = [self.novelty_view(record) for _, checked in work for record, _ in checked if record is not None]
        sketch = self.novelty.sketch(records)
        start = 0
        for outcome, checked in work:
            stop = start + sum(record is not None for record, _ in checked)
            outcome.checked = (checked, self.novelty.sketch_rows(sketch, start, stop))
            start = stop

    def _check_items(self, outcome: Outcome) -> list[tuple[Record | None, dict[str, str]]]:
        passage = outcome.chunk.text if outcome.chunk is not None else None
        return [self._check(item, passage) for item in outcome.parsed.items]

    def _check(self, item: Any, passage: str | None = None) -> tuple[Record | None, dict[str, str]]:
        """(the normalised record, {}) when the item passes, else (None, {reason, detail})."""
        record, problem = self._convert(item)
        if record is None:
            return None, problem
        issues = validate_record(record)
        if issues:
            issue = issues[0]
            return None, {"reason": issue.kind, "detail": f"{issue.field}: {issue.message}"}
        record = self.normalize(record)
        ok, reason, detail = self.keep(record)
        if ok and passage is not None:
            ok, reason, detail = check_grounded(record, passage, self.min_support)
        if not ok:
            return None, {"reason": reason, "detail": detail}
        return record, {}

    def _convert(self, item: Any) -> tuple[Record | None, dict[str, str]]:
        """The parsed item as a record, or (None, {reason, detail}); multi-turn items convert otherwise."""
        record, why = to_record(item)
        return (record, {}) if record is not None else (None, {"reason": "not_an_object", "detail": why})

    def novelty_view(self, record: Record) -> Record:
        """What novelty compares: the record itself (a conversation compares as a whole)."""
        return record

    def _meta(self, outcome: Outcome, round_number: int, feedback: str | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"source": "generate", "model": self.model, "round": round_number,
                                "request": outcome.k, "feedback_version": feedback, "lang": outcome.lang}
        if outcome.shown:
            meta["seeds"] = outcome.shown
        if outcome.repaired:
            meta["repaired"] = True
        if outcome.chunk is not None:
            meta.update(outcome.chunk.provenance())
        return meta
