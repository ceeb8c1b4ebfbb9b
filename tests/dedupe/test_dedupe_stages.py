"""exact_dedupe and near_dedupe stages on the fixture and on generated groups of near-duplicates."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from datacraft.dedupe import (
    COPIES_REFERENCE,
    NEAR_DUPLICATE,
    DedupeConfig,
    exact_dedupe,
    near_dedupe,
)
from datacraft.dedupe import stage as stage_module
from datacraft.stages import Ledger, RejectSink, chain
from tests.dedupe.helpers import corpus

FIXTURES = Path(__file__).parent.parent / "fixtures"


def load(name: str) -> list[dict]:
    return [orjson.loads(line) for line in (FIXTURES / name).read_bytes().splitlines()]


class ListSink(RejectSink):
    """A rejects sink that keeps entries in memory."""

    def __init__(self) -> None:
        super().__init__(None)
        self.entries: list[dict] = []

    def write(self, stage: str, reason: str, **kwargs) -> None:
        super().write(stage, reason, **kwargs)
        self.entries.append({"stage": stage, "reason": reason, **kwargs})


def run(records, config=None, against=None, exact=True):
    config = config or DedupeConfig()
    sink = ListSink()
    ledger = Ledger(sink)
    stages = ([exact_dedupe(ledger, config.fields)] if exact else []) + [near_dedupe(ledger, config, against)]
    kept = list(chain(iter([dict(r) for r in records]), *stages))
    return kept, sink.entries, ledger


def drops(entries):
    return {e["record"]["id"]: (e["reason"], e["dup_of"]) for e in entries}


def test_fixture_keep_first():
    kept, entries, ledger = run(load("dedupe_mixed.jsonl"))
    assert [r["id"] for r in kept] == ["d01", "d04", "d05", "d06", "d09", "d11", "d13", "d14", "d16", "d17"]
    assert drops(entries) == {
        "d02": ("exact_duplicate", "d01"),  # case, spacing, punctuation
        "d07": ("exact_duplicate", "d06"),  # full-width vs ASCII punctuation
        "d12": ("exact_duplicate", "d11"),
        "d03": ("near_duplicate", "d01"),   # English, one word changed
        "d08": ("near_duplicate", "d06"),   # Chinese, two characters changed
        "d10": ("near_duplicate", "d04"),   # English, a sentence appended
        "d15": ("near_duplicate", "d14"),   # Japanese, one character removed
    }
    assert ledger.stages["exact_dedupe"].read == 17
    assert ledger.stages["near_dedupe"].kept + len(entries) == 17


def test_fixture_keep_longest_picks_the_longer_copy():
    kept, entries, _ = run(load("dedupe_mixed.jsonl"), DedupeConfig(keep="longest"))
    ids = [r["id"] for r in kept]
    assert "d10" in ids and "d04" not in ids  # d10 = d04 plus a sentence
    assert drops(entries)["d04"] == ("near_duplicate", "d10")
    assert "d03" in ids and drops(entries)["d01"] == ("near_duplicate", "d03")  # "quick" is longer than "fast"


def test_dup_of_names_a_kept_record_for_near_duplicates():
    records = corpus()
    for keep in ("first", "longest"):
        kept, entries, _ = run(records, DedupeConfig(keep=keep), exact=False)
        kept_ids = {r["id"] for r in kept}
        assert entries and all(e["dup_of"] in kept_ids for e in entries)
        assert len(kept) + len(entries) == len(records)


def test_every_removal_names_a_close_survivor_of_its_group():
    # the corpus's groups are chains of growing edits: the ends of a chain can be too far apart
    # for one survivor (single linkage kept one per group, removing records unlike their survivor)
    records = corpus()
    kept, entries, _ = run(records)
    assert set(r["meta"]["group"] for r in kept) == set(range(40))
    near = [e for e in entries if e["stage"] == "near_dedupe"]
    assert near and all(float(e["detail"].split()[2]) >= DedupeConfig().threshold for e in near)
    assert all(e["record"]["meta"]["group"] == next(r for r in kept if r["id"] == e["dup_of"])["meta"]["group"]
               for e in entries if e["stage"] == "near_dedupe")
    assert len(kept) + len(entries) == len(records)


def test_different_records_are_all_kept():
    records = load("dedupe_mixed.jsonl")
    distinct = [r for r in records if r["id"] in {"d01", "d04", "d05", "d06", "d09", "d13", "d16", "d17"}]
    kept, entries, _ = run(distinct)
    assert entries == [] and len(kept) == len(distinct)


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_idempotent(keep):
    config = DedupeConfig(keep=keep)
    once, _, _ = run(corpus(seed=3, groups=60), config)
    twice, entries, _ = run(once, config)
    assert entries == [] and twice == once


def test_against_removes_copies_of_references_and_never_outputs_them():
    refs = load("dedupe_refs.jsonl")
    kept, entries, _ = run(load("dedupe_mixed.jsonl"), against=iter(refs))
    ids = [r["id"] for r in kept]
    assert "d09" not in ids and not any(i.startswith("ref") for i in ids)
    assert drops(entries)["d09"] == (COPIES_REFERENCE, "ref-wall")
    again, entries2, _ = run(kept, against=iter(refs))
    assert entries2 == [] and again == kept


def test_references_without_ids_are_named_by_position():
    ref = {"instruction": "介绍一下长城。", "output": load("dedupe_mixed.jsonl")[8]["output"]}
    _, entries, _ = run(load("dedupe_mixed.jsonl"), against=[ref], exact=False)
    assert drops(entries)["d09"] == (COPIES_REFERENCE, "reference:1")


def test_records_without_ids_get_positions_in_dup_of():
    records = [{"instruction": "a", "output": "same text here"}, {"instruction": "b", "output": "x"},
               {"instruction": "A!", "output": "Same text, here."}]
    kept, entries, _ = run(records)
    assert len(kept) == 2 and entries[0]["dup_of"] == 1


def test_spooling_to_a_temp_file_keeps_order_and_content(monkeypatch):
    monkeypatch.setattr(stage_module, "SPOOL_LIMIT", 5)
    records = corpus(seed=5)
    in_memory, entries_mem, _ = run(records)
    monkeypatch.setattr(stage_module, "SPOOL_LIMIT", 0)
    spooled, entries_file, _ = run(records)
    assert spooled == in_memory and entries_file == entries_mem


def test_threshold_none_switches_the_near_stage_off():
    records = load("dedupe_mixed.jsonl")
    kept, entries, _ = run(records, DedupeConfig(threshold=None))
    assert {e["reason"] for e in entries} == {"exact_duplicate"} and len(kept) == 14


def test_lower_threshold_finds_more():
    records = corpus(seed=11)
    strict, _, _ = run(records, DedupeConfig(threshold=0.95), exact=False)
    loose, _, _ = run(records, DedupeConfig(threshold=0.6), exact=False)
    assert len(loose) < len(strict)


@pytest.mark.parametrize("exact", [True, False])
def test_records_without_words_are_never_duplicates(exact):
    records = [{"id": "a", "instruction": "?!", "output": "..."}, {"id": "b", "instruction": "", "output": "—"},
               {"id": "c", "instruction": "hello", "output": "world"}, {"id": "d", "conversations": []},
               {"id": "e", "conversations": []}]
    kept, entries, _ = run(records, exact=exact)
    assert [r["id"] for r in kept] == ["a", "b", "c", "d", "e"] and entries == []


def test_near_reject_entry_shape():
    _, entries, _ = run(load("dedupe_mixed.jsonl"), exact=False)
    entry = next(e for e in entries if e["record"]["id"] == "d03")
    assert entry["stage"] == "near_dedupe" and entry["reason"] == NEAR_DUPLICATE
    assert entry["detail"].startswith("estimated similarity 0.") and entry["detail"].endswith("to d01")


def test_spool_round_trips_shared_objects():
    shared = ["x", "y"]
    records = [{"id": i, "a": shared, "b": shared, "meta": {"n": i, "t": [1, "二"]}} for i in range(10)]
    spool = stage_module.Spool(limit=2)
    for r in records:
        spool.append(r)
    try:
        assert list(spool) == records and list(spool) == records  # replayable, nothing mixed up
    finally:
        spool.close()
