"""Duplicates by meaning: no chaining, Traditional = Simplified, symbols kept, recall on realistic edits."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import orjson
import pytest
from opencc import OpenCC

from bench.edit_set import build
from datacraft.dedupe import DedupeConfig
from datacraft.dedupe.lsh import SignatureBank, resolve
from datacraft.dedupe.normalize import answer_last_text, exact_key, exact_keys, normalize
from datacraft.dedupe.shingles import shingles
from datacraft.dedupe.stage import new_bank
from tests.dedupe.helpers import edit_words, english
from tests.dedupe.test_dedupe_stages import run

FIXTURES = Path(__file__).parent.parent / "fixtures"


def jaccard(a: str, b: str, config: DedupeConfig) -> float:
    sa = set(shingles(normalize(a), config.ngram_cjk, config.ngram_word))
    sb = set(shingles(normalize(b), config.ngram_cjk, config.ngram_word))
    return len(sa & sb) / len(sa | sb)


def drift(seed: int, steps: int = 12, n: int = 80) -> list[str]:
    """A chain of texts, each one word away from the last: neighbours are close, the ends are not."""
    rng = random.Random(seed)
    chain = [english(rng, n)]
    for _ in range(steps):
        chain.append(edit_words(rng, chain[-1], 1))
    return chain


def test_a_removed_record_is_close_to_the_survivor_it_names():
    config = DedupeConfig()
    records = [{"id": f"c{i}", "instruction": "", "input": "", "output": t}
               for seed in range(6) for i, t in enumerate(drift(seed), start=seed * 100)]
    kept, entries, _ = run(records, config, exact=False)
    text = {r["id"]: r["output"] for r in records}
    kept_ids = {r["id"] for r in kept}
    assert entries and len(kept) + len(entries) == len(records)
    assert all(e["dup_of"] in kept_ids for e in entries)
    # verified on the estimate (128 bins, standard error ~0.04): the true similarity is close to it
    assert min(jaccard(text[e["record"]["id"]], text[e["dup_of"]], config) for e in entries) > config.threshold - 0.1
    # single linkage kept one record per chain; the ends of a chain are far apart, so more survive
    assert jaccard(text["c0"], text["c12"], config) < config.threshold - 0.2
    assert len(kept) > 6


def test_a_chain_is_not_removed_through_records_that_were_removed():
    a, b, c = drift(1, steps=6)[::3]  # b is 3 edits from a and from c; a and c are 6 apart
    config = DedupeConfig(threshold=0.7)
    assert jaccard(a, b, config) >= 0.7 > jaccard(a, c, config) and jaccard(b, c, config) >= 0.7
    kept, entries, _ = run([{"id": i, "output": t} for i, t in (("a", a), ("b", b), ("c", c))], config, exact=False)
    assert [r["id"] for r in kept] == ["a", "c"]  # b goes as a's copy; c is kept: a is not like it
    assert [(e["record"]["id"], e["dup_of"]) for e in entries] == [("b", "a")]


def bank_of(texts: list[str], config: DedupeConfig) -> SignatureBank:
    bank = new_bank(config)
    bank.add(texts)
    return bank


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_vectorised_rounds_loop_and_large_buckets_agree(keep):
    config = DedupeConfig()
    texts = [t for seed in range(8) for t in drift(seed, steps=10, n=60)]
    bank = bank_of(texts, config)
    order = np.lexsort((np.arange(len(texts)), -np.array([len(t) for t in texts]))) if keep == "longest" else None
    rounds = resolve(bank, 0.8, 0, order)
    assert np.array_equal(resolve(bank, 0.8, 0, order, max_rounds=0), rounds)  # all in the loop
    small = resolve(bank, 0.8, 0, order, cap=2)  # every bucket of 3+ records takes the capped path
    for rep in (rounds, small):
        removed = np.flatnonzero(rep != np.arange(len(texts)))
        assert len(removed) and (rep[rep[removed]] == rep[removed]).all()  # survivors survive
        assert min(jaccard(texts[i], texts[rep[i]], config) for i in removed) > 0.7


def test_toolformer_like_records_are_not_duplicates_of_each_other():
    long_instruction = ("Your task is to add calls to a Calculator API to a piece of text. The calls should help "
                        "you get information required to complete the text. You can call the API by writing "
                        "[Calculator(expression)] where expression is the expression to be computed. ") * 3
    rng = random.Random(5)
    records = []
    for i in range(40):
        sentence = english(rng, 18)
        words = sentence.split()
        records.append({"id": f"t{i}", "instruction": long_instruction, "input": sentence,
                        "output": " ".join(words[:9] + [f"[Calculator({i} * 7)]"] + words[9:])})
    kept, entries, _ = run(records)
    assert entries == [] and len(kept) == 40
    copy = dict(records[3], id="copy", output=records[3]["output"] + " Done.")
    kept, entries, _ = run(records + [copy])
    assert [(e["record"]["id"], e["dup_of"]) for e in entries] == [("copy", "t3")]


def test_traditional_and_simplified_copies_are_duplicates_and_the_text_is_left_alone():
    to_hant = OpenCC("s2t")
    source = [orjson.loads(line) for line in (FIXTURES / "dedupe_edit_source.jsonl").read_bytes().splitlines()]
    zh = [r for r in source if any("\u4e00" <= ch <= "\u9fff" for ch in r["output"])]
    records = [dict(r, id=f"s{i}") for i, r in enumerate(zh)]
    records += [{k: to_hant.convert(v) for k, v in r.items()} | {"id": f"t{i}"} for i, r in enumerate(zh)]
    assert records[len(zh)]["output"] != records[0]["output"]  # the copies really are Traditional
    kept, entries, _ = run(records)
    assert {r["id"] for r in kept} == {f"s{i}" for i in range(len(zh))}
    assert {e["record"]["id"]: e["dup_of"] for e in entries} == {f"t{i}": f"s{i}" for i in range(len(zh))}
    assert all(e["reason"] == "exact_duplicate" for e in entries)
    # Survivors unchanged (the key was converted, not the record), but for the cluster dedupe adds.
    assert [_without_mark(r) for r in kept] == records[:len(zh)]
    assert normalize("軟體開發") == normalize("软体开发")


@pytest.mark.parametrize(("a", "b"), [
    ("x^2-1", "x^2+1"), ("a<b", "a>b"), ("a != b", "a = b"), ("i++", "i--"), ("3.14", "314"),
    ("a && b", "a || b"), ("x*y", "x/y"), ("50%", "50"), ("a ≤ b", "a ≥ b"), ("f(x) = x - 1", "f(x) = x + 1"),
])
def test_exact_key_keeps_meaningful_symbols(a, b):
    assert exact_key(normalize(a)) != exact_key(normalize(b))
    assert exact_keys([a, b])[0] != exact_keys([a, b])[1]  # the vectorised path too


@pytest.mark.parametrize(("a", "b"), [
    ("Hello, World!", "hello world"), ("x − 1", "x - 1"),
    ("- first item\n- second", "* first item\n* second"), ("**Note:** read this", "Note: read this"),
    ("“quoted”, she said.", "\"quoted\" she said"), ("1–2 days", "1-2 days"),
    ("Ｆｕｌｌ ｗｉｄｔｈ", "full width"), ("你好，世界！", "你好,世界!"),
])
def test_case_spacing_width_and_punctuation_style_still_collapse(a, b):
    assert exact_key(normalize(a)) == exact_key(normalize(b))
    assert exact_keys([a, b])[0] == exact_keys([a, b])[1]


def test_short_math_records_that_differ_in_an_operator_are_kept():
    records = [{"id": "m", "instruction": "Factor x^2-49 over the integers.", "output": "(x-7)(x+7)"},
               {"id": "p", "instruction": "Factor x^2+49 over the integers.", "output": "(x-7)(x+7)"}]
    kept, entries, _ = run(records)
    assert entries == [] and len(kept) == 2


def test_two_substituted_words_in_a_sixty_word_answer_are_caught():
    source = [orjson.loads(line) for line in (FIXTURES / "dedupe_edit_source.jsonl").read_bytes().splitlines()]
    english_records = [r for r in source if len(r["output"].split()) >= 60]
    rng = random.Random(11)
    caught = tried = 0
    for record in english_records:
        words = record["output"].split()[:60]
        for _ in range(5):
            edited = list(words)
            for i in rng.sample(range(60), 2):
                edited[i] = rng.choice(["blue", "quickly", "seven", "house", "river", "often"])
            pair = [{"id": "a", "instruction": record["instruction"], "output": " ".join(words)},
                    {"id": "b", "instruction": record["instruction"], "output": " ".join(edited)}]
            _, entries, _ = run(pair)
            caught += len(entries)
            tried += 1
    # measured: 60 of 60 (threshold 0.8 with 3-character/3-word shingles, the old defaults: 51 of 60)
    assert tried >= 50 and caught == tried


def fixture_edit_set(seed: int) -> tuple[list[dict], dict]:
    source = [orjson.loads(line) for line in (FIXTURES / "dedupe_edit_source.jsonl").read_bytes().splitlines()]
    return build(source, seed, templates=20, math=10, kinds_each=9)  # every kind of edit on every record


def score(items: list[dict], truth: dict, entries: list[dict]) -> tuple[float, float]:
    group = {rid: g for g, members in enumerate(truth["groups"]) for rid in members}
    right = sum(1 for e in entries if group[e["dup_of"]] == group[e["record"]["id"]])
    should = sum(len(m) - 1 for m in truth["groups"])
    return right / max(len(entries), 1), right / should


def test_edit_set_recall_and_precision_floor():
    precision, recall = [], []
    for seed in range(3):
        items, truth = fixture_edit_set(seed)
        kept, entries, _ = run(items)
        assert len(kept) + len(entries) == len(items)
        p, r = score(items, truth, entries)
        precision.append(p)
        recall.append(r)
    # measured on this fixture: precision 1.0, recall 0.86-0.92 (before this change: 1.0, 0.73-0.75)
    assert min(precision) >= 0.97 and np.mean(recall) >= 0.85, (precision, recall)


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_edit_set_dedupe_twice_is_once(keep):
    items, _ = fixture_edit_set(4)
    config = DedupeConfig(keep=keep)
    once, entries, _ = run(items, config)
    assert entries and len(once) + len(entries) == len(items)
    twice, again, _ = run(once, config)
    assert again == [] and twice == once


def test_the_near_stage_compares_the_answer_last_in_every_form():
    items, _ = fixture_edit_set(0)
    assert answer_last_text(items[0], DedupeConfig().fields).split("\x00")[-1] == items[0]["output"]
    chat = {"conversations": [{"from": "human", "value": "q1"}, {"from": "gpt", "value": "a1"},
                              {"from": "human", "value": "q2"}, {"from": "gpt", "value": "a2"}]}
    assert answer_last_text(chat, DedupeConfig().fields).split("\x00")[-1] == "a2"
    assert answer_last_text({"instruction": "q", "output": ""}, DedupeConfig().fields).endswith("\x00")


def _without_mark(record: dict) -> dict:
    """The record less `meta.dedupe` (the cluster dedupe writes on each kept record), and less an emptied meta."""
    meta = {k: v for k, v in (record.get("meta") or {}).items() if k != "dedupe"}
    out = {k: v for k, v in record.items() if k != "meta"}
    return {**out, "meta": meta} if meta else out
