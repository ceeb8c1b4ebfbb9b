"""Novelty: ROUGE-L against seeds and accepted items, and the whole-record near-duplicate check."""

from __future__ import annotations

import pytest

from datacraft.generate import NoveltyChecker, rouge_l


def test_rouge_l_is_the_lcs_f1_over_words_and_cjk_characters():
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == 1.0
    assert rouge_l("the cat sat on the mat", "a dog ran in a park") == 0.0
    assert rouge_l("A B C D", "a b x d") == pytest.approx(0.75)  # LCS 3 of 4 and 4; case-insensitive
    assert rouge_l("解释光合作用", "解释呼吸作用") == pytest.approx(4 / 6)  # 解释 + 作用


def test_items_copying_a_seed_or_an_earlier_item_are_rejected():
    checker = NoveltyChecker(rouge_threshold=0.7, near_threshold=None)
    seed = {"instruction": "Explain why the sky looks blue during the day.", "input": "", "output": "Rayleigh."}
    checker.add(seed, "seed:1", kind="seed")
    copy = {"instruction": "Explain why the sky looks blue in the day.", "input": "", "output": "Scattering."}
    ok, reason, detail = checker.check(copy)
    assert (ok, reason) == (False, "similar_to_seed") and detail.endswith("with seed:1")
    fresh = {"instruction": "Write a haiku about a lighthouse in winter.", "input": "", "output": "..."}
    assert checker.check(fresh) == (True, "", "")
    checker.add(fresh, "gen-0-0")
    again = {"instruction": "Write a haiku about a lighthouse in the winter.", "input": "", "output": "Other."}
    ok, reason, detail = checker.check(again)
    assert (ok, reason) == (False, "similar_to_earlier") and "rouge_l=0.9" in detail


def test_the_threshold_is_configurable_and_none_switches_it_off():
    strict = NoveltyChecker(rouge_threshold=0.3, near_threshold=None)
    loose = NoveltyChecker(rouge_threshold=None, near_threshold=None)
    base = {"instruction": "Summarize the article about solar panels.", "input": "", "output": "x"}
    other = {"instruction": "Summarize the report on wind farms.", "input": "", "output": "y"}
    for checker in (strict, loose):
        checker.add(base, "b")
    assert strict.check(other)[0] is False
    assert loose.check(base)[0] is True


def test_chinese_items_are_compared_by_character():
    checker = NoveltyChecker(near_threshold=None)
    checker.add({"instruction": "给出三个提高睡眠质量的建议。", "input": "", "output": "..."}, "seed:3", kind="seed")
    assert checker.check({"instruction": "给出三个改善睡眠质量的建议。", "input": "", "output": "..."})[1] == "similar_to_seed"
    assert checker.check({"instruction": "写一首关于秋天的短诗。", "input": "", "output": "..."})[0] is True


def test_records_of_one_reply_are_checked_against_each_other_and_remembered():
    checker = NoveltyChecker()
    reply = [
        {"instruction": "Write a limerick about a cat who loves rain.", "input": "", "output": "There once was a cat..."},
        {"instruction": "Write a limerick about a cat who loves the rain.", "input": "", "output": "A cat in the rain..."},
        {"instruction": "List three uses of baking soda.", "input": "", "output": "Cleaning, baking, deodorising."},
        {"instruction": "Name three things baking soda is used for.", "input": "",
         "output": "Cleaning, baking, deodorising."},
    ]
    verdicts = checker.check_many(reply, ["r-0", "r-1", "r-2", "r-3"])
    # the last one shares the short answer but its task differs (ROUGE-L 0.43) and the records are not near-duplicates
    assert [v[:2] for v in verdicts] == [(True, ""), (False, "similar_to_earlier"), (True, ""), (True, "")]
    assert verdicts[1][2].endswith("with r-0")
    again = checker.check_many([reply[0], reply[2]], ["s-0", "s-1"])
    assert [v[1] for v in again] == ["similar_to_earlier", "similar_to_earlier"]  # both were remembered


def test_whole_record_near_duplicates_within_a_reply():
    checker = NoveltyChecker(rouge_threshold=None, near_threshold=0.8)
    long_answer = "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen in the chloroplasts."
    reply = [{"instruction": "What is photosynthesis?", "input": "", "output": long_answer},
             {"instruction": "Define photosynthesis.", "input": "", "output": long_answer}]
    verdicts = checker.check_many(reply, ["a", "b"])
    assert verdicts[0] == (True, "", "") and verdicts[1][1] == "near_duplicate"
    assert checker.check(reply[1])[1] == "near_duplicate"  # against the window of recent items


def test_the_recent_window_joins_the_minhash_index_in_one_batch():
    from fakellm import invent_items

    from datacraft.generate.novelty import WINDOW

    checker = NoveltyChecker()
    items = invent_items(5, WINDOW + 3)
    assert all(v[0] for v in checker.check_many(items[:WINDOW - 2], [f"i-{n}" for n in range(WINDOW - 2)]))
    assert len(checker._near) == 0 and len(checker._recent) == WINDOW - 2  # compared exactly, not indexed yet
    rest = items[WINDOW - 2:]
    assert all(v[0] for v in checker.check_many(rest, [f"i-{n}" for n in range(WINDOW - 2, len(items))]))
    assert len(checker._near) == len(items) and not checker._recent  # joined the index after the reply, in one batch
    assert not any(v[0] for v in checker.check_many(items[-2:], ["x", "y"]))  # copies of indexed items
    copy = {**items[0], "instruction": items[0]["instruction"].upper()}  # same words: caught by ROUGE-L first
    assert checker.check(copy)[1] == "similar_to_earlier"
    loose = NoveltyChecker(rouge_threshold=None)
    loose.check_many(items, [f"i-{n}" for n in range(len(items))])
    loose.check_many(invent_items(6, 2), ["w-0", "w-1"])  # two more wait in the window
    assert loose.check(items[0]) == (False, "near_duplicate", "similarity=1.00 with i-0")  # from the MinHash index
    assert loose.check(invent_items(6, 2)[1]) == (False, "near_duplicate", "similarity=1.00 with w-1")  # window


def test_the_window_joins_the_index_with_the_sketches_of_its_checks_as_if_sketched_anew():
    """Items are sketched once (when checked); the index they join equals one built from their texts."""
    from fakellm import invent_items

    from datacraft.dedupe import DedupeConfig, NoveltyIndex
    from datacraft.generate.novelty import WINDOW
    from datacraft.records import record_text

    checker = NoveltyChecker(rouge_threshold=None)
    items = invent_items(3, WINDOW + 4) + [{"instruction": "!", "input": "", "output": "?"}]  # one without words
    keys = [f"i-{n}" for n in range(len(items))]
    verdicts = checker.check_many(items, keys)
    assert not checker._recent and len(checker._near) == sum(v[0] for v in verdicts) > WINDOW
    kept = [(item, key) for item, key, v in zip(items, keys, verdicts, strict=True) if v[0]]
    fresh = NoveltyIndex(DedupeConfig(threshold=0.8))
    fresh.add_many([record_text(item) for item, _ in kept], [key for _, key in kept])
    assert checker._near._keys == fresh._keys
    assert (checker._near._sigs[:len(fresh)] == fresh._sigs[:len(fresh)]).all()
    assert checker._near._buckets == fresh._buckets


def test_the_size_bound_skips_only_pairs_that_cannot_reach_the_threshold():
    checker = NoveltyChecker(rouge_threshold=None, near_threshold=0.5)
    base = {"instruction": "one two three four five six seven eight", "input": "", "output": "nine ten"}
    assert checker.check_many([base], ["a"])[0][0]
    # a prefix holding exactly half of the shingles is at Jaccard 0.5: the bound (0.5) must not skip it
    half = {"instruction": "one two three four five six", "input": "", "output": ""}
    ok, reason, detail = checker.check(half)
    assert (ok, reason) == (False, "near_duplicate") and detail.endswith("with a")


def test_min_overlap_is_a_true_lower_bound_on_shared_tokens():
    from rapidfuzz import fuzz

    from datacraft.generate.novelty import elements, min_overlap

    rng = __import__("random").Random(3)
    for _ in range(3000):
        a = "".join(rng.choice("abcde") for _ in range(rng.randint(1, 12)))
        b = "".join(rng.choice("abcde") for _ in range(rng.randint(1, 12)))
        shared = len(set(elements(a)) & set(elements(b)))
        for threshold in (0.3, 0.5, 0.7, 0.9):
            if fuzz.ratio(a, b) >= threshold * 100:
                assert shared >= min_overlap(len(a), threshold), (a, b, threshold)


def _random_records(rng, count, vocabulary):
    records = []
    for _ in range(count):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 9))]
        if words and rng.random() < 0.3 and records:  # a near-copy of an earlier task
            words = records[rng.randrange(len(records))]["instruction"].split()
            if words:
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
        records.append({"instruction": " ".join(words), "input": rng.choice(["", "x y", "数据"]), "output": "o"})
    return records


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.7, 0.95])
def test_the_token_index_gives_the_verdicts_of_a_scan_of_every_stored_text(threshold):
    import random

    rng = random.Random(int(threshold * 100))
    vocabulary = ["the", "a", "cat", "dog", "sat", "ran", "on", "mat", "park", "红", "猫", "in", "blue", "sky",
                  *(f"w{i}" for i in range(60))]
    seeds = _random_records(rng, 20, vocabulary)
    stream = _random_records(rng, 400, vocabulary)
    results = []
    for full in (False, True):
        checker = NoveltyChecker(rouge_threshold=threshold, near_threshold=None)
        checker.full_scan = full
        checker.add_many(seeds, [f"seed-{i}" for i in range(len(seeds))], kind="seed")
        results.append([v for k in range(0, len(stream), 5)
                        for v in checker.check_many(stream[k:k + 5], [f"g-{k}-{i}" for i in range(5)])])
    assert results[0] == results[1]
    assert 0 < sum(not ok for ok, _, _ in results[0]) < len(stream)  # both kinds of verdict occur


def test_a_sketch_of_many_replies_is_the_sketches_of_each_reply():
    import numpy as np

    checker = NoveltyChecker()
    records = [
        {"instruction": "Write a limerick about a cat who loves rain.", "input": "", "output": "There once was a cat."},
        {"instruction": "给出三个提高睡眠质量的建议。", "input": "", "output": "早睡早起，少喝咖啡。"},
        {"instruction": "Translate 你好 into French.", "input": "", "output": "Bonjour."},
        {"instruction": "?", "input": "", "output": "!"},
        {"instruction": "Sum", "input": "1 2", "output": "3"},
    ]
    together = checker.sketch(records)
    for index, record in enumerate(records):
        alone = checker.sketch([record])
        for part_together, part_alone in zip(checker.sketch_rows(together, index, index + 1), alone, strict=True):
            assert np.array_equal(part_together, part_alone)
    assert NoveltyChecker(near_threshold=None).sketch(records) is None


def test_checks_prepared_for_many_replies_give_the_verdicts_of_checks_per_reply():
    from fakellm import invent_items

    replies = [invent_items(seed, 5) for seed in range(30)]
    replies += [[dict(item, instruction=item["instruction"].replace("Explain", "Describe")) for item in reply]
                for reply in replies[:10]]  # near-copies of earlier replies
    results = []
    for batched in (False, True):
        checker = NoveltyChecker()
        verdicts = []
        for lo in range(0, len(replies), 7):
            group = replies[lo:lo + 7]
            sketch = checker.sketch([item for reply in group for item in reply]) if batched else None
            for number, reply in enumerate(group):
                rows = checker.sketch_rows(sketch, 5 * number, 5 * number + 5)
                verdicts += checker.check_many(reply, [f"g-{lo + number}-{i}" for i in range(5)], sketch=rows)
        results.append(verdicts)
    assert results[0] == results[1]
    assert any(not ok for ok, _, _ in results[0]) and any(ok for ok, _, _ in results[0])


def test_items_prepared_in_one_batch_are_split_as_they_are_one_reply_at_a_time():
    import json

    from fakellm import invent_items

    from datacraft.clean import CleanConfig
    from datacraft.generate.accept import ItemChecker
    from datacraft.generate.parse import parse_items
    from datacraft.generate.requests import Outcome

    def outcomes():
        made = []
        for k in range(24):
            items = invent_items(k % 16, 5)  # requests 16-23 repeat 0-7: similar_to_earlier
            if k % 5 == 0:
                items[1] = {"instruction": "", "input": "", "output": "x"}  # fails validation
            made.append(Outcome(k, parsed=parse_items(json.dumps({"items": items}), "stop")))
        return made

    results = []
    for batched in (False, True):
        checker = ItemChecker(CleanConfig(), NoveltyChecker(), "m")
        replies = outcomes()
        if batched:
            checker.prepare(replies[:10])
            checker.prepare(replies)  # the rest; the first ten are not redone
        results.append([checker.split(outcome, 1, None) for outcome in replies])
    assert results[0] == results[1]
    reasons = {entry["reason"] for _, rejected in results[0] for entry in rejected}
    assert "similar_to_earlier" in reasons and len(reasons) >= 2
