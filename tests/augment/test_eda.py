"""EDA operations: each changes the prompt, never protected spans or terms, never the answer by default."""

from __future__ import annotations

import random
import re

import pytest

from datacraft.augment.config import EdaConfig
from datacraft.augment.eda import Eda
from datacraft.augment.guard import units

RECORDS = [
    {"id": "zh", "instruction": "请用 3 句话简要介绍机器学习的基本思想，例如参考 https://example.com 上的例子。",
     "input": "", "output": "机器学习让计算机从数据中学习规律。"},
    {"id": "en", "instruction": "Write a short story about {name} who often visits the old library with `ls -la`.",
     "input": "The library opens at 9 and closes at 17.", "output": "Once upon a time, {name} went to the library."},
]
SPANS = {"zh": ["3", "https://example.com", "机器学习"], "en": ["{name}", "`ls -la`", "9", "17"]}


@pytest.mark.parametrize("operation", ["swap", "delete", "insert", "noise"])
def test_each_operation_changes_the_prompt_and_keeps_spans_and_the_answer(operation):
    eda = Eda(operation, EdaConfig(ratio=0.3), protect_factual=False)
    for record in RECORDS:
        for seed in range(15):
            rewrite = eda(record, random.Random(seed))
            assert rewrite.failure is None, (operation, record["id"], rewrite.failure)
            assert "output" not in rewrite.fields  # an answer with typos teaches typos
            changed = "".join(rewrite.fields.values())
            original = "".join(record[f] for f in rewrite.fields)
            assert changed != original
            for span in SPANS[record["id"]]:
                assert changed.count(span) == original.count(span), (operation, span, changed)


def test_what_each_operation_does_to_the_words():
    record = RECORDS[1]
    text = record["instruction"]
    words = sorted(units(text))
    swapped = Eda("swap", EdaConfig(ratio=0.2))(record, random.Random(1)).fields["instruction"]
    assert sorted(units(swapped)) == words and swapped != text  # the same words, another order
    deleted = Eda("delete", EdaConfig(ratio=0.2))(record, random.Random(1)).fields["instruction"]
    assert len(units(deleted)) < len(words) and set(units(deleted)) <= set(words)
    inserted = Eda("insert", EdaConfig(ratio=0.2))(record, random.Random(1)).fields["instruction"]
    assert len(units(inserted)) > len(words) and "frequently" in inserted  # a listed synonym of "often"
    noisy = Eda("noise", EdaConfig(ratio=0.05))(record, random.Random(1)).fields["instruction"]
    assert len(re.findall(r"\s+", noisy)) == len(re.findall(r"\s+", text)) and noisy != text


def test_nothing_safe_to_touch_is_a_failure_and_seeds_repeat():
    eda = Eda("swap")
    failed = eda({"id": "x", "instruction": "`code` 42", "output": "ok"}, random.Random(0))
    assert failed.failure is not None and failed.failure.reason == "nothing_to_rewrite"
    assert eda(RECORDS[0], random.Random(5)).fields == eda(RECORDS[0], random.Random(5)).fields
