import random
from collections import Counter

import pytest

from datacraft.errors import ConfigError
from datacraft.export.split import assign_split, group_records, validation_target


def by_label(labels):
    """A clusterer for tests: texts whose first word matches are 'near-duplicates'."""
    return lambda texts: [labels.index(t.split()[0]) if t.split()[0] in labels else 1000 + i
                          for i, t in enumerate(texts)]


def test_groups_join_documents_augmentations_and_duplicates():
    records = [
        {"id": "a", "meta": {"doc_id": "d1"}},
        {"id": "b", "meta": {"source_doc": "d1"}},          # same document as a, other key
        {"id": "c", "meta": {"chunk": {"doc_id": "d2"}}},
        {"id": "d", "meta": {"augmented_from": "c"}},        # copy of c
        {"id": "e", "meta": {"augmented_from": "missing"}},  # two copies of an absent source
        {"id": "f", "meta": {"augmented_from": ["missing"]}},
        {"id": "g"},
        {"id": "h"},
        {"id": "i"},
    ]
    texts = ["t1", "t2", "t3", "t4", "t5", "t6", "Same text.", "ＳＡＭＥ   text", "other"]
    assert group_records(records, texts) == [0, 0, 2, 2, 4, 4, 6, 6, 8]
    assert group_records(records) == [0, 0, 2, 2, 4, 4, 6, 7, 8]  # no texts: no duplicate grouping


def test_near_duplicate_clusters_are_joined_transitively_with_other_relations():
    records = [{"id": str(i)} for i in range(5)]
    records[4]["meta"] = {"augmented_from": "3"}
    texts = ["alpha one", "beta two", "alpha three", "beta four", "gamma"]
    assert group_records(records, texts, by_label(["alpha", "beta"])) == [0, 1, 0, 1, 1]


@pytest.mark.parametrize("n, val_size, expected", [
    (100, 0.1, 10), (100, 0, 0), (100, 25, 25), (3, 0.1, 1), (0, 0.1, 0), (10, 50, 10)])
def test_validation_target(n, val_size, expected):
    assert validation_target(n, val_size) == expected


@pytest.mark.parametrize("val_size", [-0.1, 2.5])
def test_validation_target_rejects_bad_sizes(val_size):
    with pytest.raises(ConfigError):
        validation_target(10, val_size)


def random_groups(rng, n=300):
    groups, label = [], 0
    while len(groups) < n:
        size = rng.choice([1, 1, 1, 2, 3, 8])
        groups += [label] * size
        label += 1
    groups = groups[:n]
    rng.shuffle(groups)
    return groups


@pytest.mark.parametrize("seed", range(8))
def test_assign_split_never_splits_a_group_and_meets_the_target_closely(seed):
    groups = random_groups(random.Random(seed))
    flags = assign_split(groups, 0.2, seed=seed)
    sides = {}
    for g, is_val in zip(groups, flags, strict=True):
        assert sides.setdefault(g, is_val) == is_val
    assert abs(sum(flags) - 60) <= 4  # whole groups of <= 8 records: within half a group of the target


def test_assign_split_is_deterministic_per_seed():
    groups = random_groups(random.Random(0))
    assert assign_split(groups, 0.1, seed=7) == assign_split(groups, 0.1, seed=7)
    assert len({tuple(assign_split(groups, 0.1, seed=s)) for s in range(5)}) == 5


def test_assign_split_keeps_training_non_empty_and_handles_zero():
    assert assign_split([0, 0, 0, 0], 0.5) == [False] * 4  # one group: it cannot move
    assert assign_split([0, 1, 2], 0) == [False] * 3
    assert sum(assign_split([0, 1, 2], 3)) == 2  # asked for all: training keeps one


def test_assign_split_stratifies_by_label():
    strata = ["zh"] * 80 + ["en"] * 20
    flags = assign_split(list(range(100)), 0.2, seed=3, strata=strata)
    chosen = Counter(s for s, f in zip(strata, flags, strict=True) if f)
    assert chosen == {"zh": 16, "en": 4}
