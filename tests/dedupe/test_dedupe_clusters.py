"""near_duplicate_clusters (used by export) and NoveltyIndex (used by generate)."""

from __future__ import annotations

import random

from datacraft.dedupe import DedupeConfig, NoveltyIndex, near_duplicate_clusters
from tests.dedupe.helpers import chinese, edit_chars, edit_words, english


def test_clusters_label_near_duplicates_alike():
    rng = random.Random(2)
    a, b, c = english(rng), chinese(rng), english(rng)
    texts = [a, b, edit_words(rng, a, 1), c, edit_chars(rng, b, 2), a.upper()]
    labels = near_duplicate_clusters(texts)
    assert labels == [0, 1, 0, 3, 1, 0]


def test_clusters_edge_cases():
    assert near_duplicate_clusters([]) == []
    assert near_duplicate_clusters(["", "", "!!"]) == [0, 1, 2]  # nothing to compare: singletons
    assert near_duplicate_clusters(["same", "same"], DedupeConfig(threshold=None)) == [0, 1]


def test_clusters_are_transitive_groups():
    rng = random.Random(9)
    base = english(rng, 80)
    chain = [base]
    for _ in range(8):  # each step edits the last: the ends are far apart, the group holds
        chain.append(edit_words(rng, chain[-1], 1))
    labels = near_duplicate_clusters(chain + [english(rng, 80)])
    assert near_duplicate_clusters([chain[0], chain[-1]]) == [0, 1]
    assert labels == [0] * 9 + [9]


def test_novelty_index_query_and_add():
    rng = random.Random(3)
    index = NoveltyIndex()
    seeds = [english(rng) for _ in range(20)] + [chinese(rng) for _ in range(20)]
    index.add_many(seeds, [f"seed-{i}" for i in range(40)])
    assert len(index) == 40
    hit = index.query(edit_words(rng, seeds[4], 1))
    assert hit is not None and hit[0] == "seed-4" and 0.8 <= hit[1] < 1.0
    hit = index.query(edit_chars(rng, seeds[25], 2))
    assert hit is not None and hit[0] == "seed-25"
    fresh = english(rng)
    assert index.query(fresh) is None
    index.add(fresh)  # default key: its position
    assert index.query(fresh.upper()) == (40, 1.0)
    assert index.query("") is None and index.query("...") is None


def test_novelty_index_threshold():
    rng = random.Random(5)
    text = english(rng, 60)
    edited = edit_words(rng, text, 6)
    strict = NoveltyIndex(DedupeConfig(threshold=0.95))
    loose = NoveltyIndex(threshold=0.3)
    for index in (strict, loose):
        index.add(text, key="t")
    assert strict.query(edited) is None
    assert loose.query(edited)[0] == "t"


def test_novelty_index_returns_the_best_match():
    rng = random.Random(6)
    text = english(rng, 100)
    far, near = edit_words(rng, text, 5), edit_words(rng, text, 1)
    index = NoveltyIndex(threshold=0.5)
    index.add(far, "far")
    index.add(near, "near")
    assert index.query(text)[0] == "near"


def test_novelty_index_grows_past_its_initial_capacity():
    rng = random.Random(8)
    index = NoveltyIndex()
    texts = [english(rng, 30) for _ in range(150)]
    for i, t in enumerate(texts):
        index.add(t, i)
    assert all(index.query(t)[0] == i for i, t in enumerate(texts))
