"""Which fields may be rewritten: answers (and inputs) of factual and code tasks are left alone."""

from __future__ import annotations

import pytest

from datacraft.augment import fields_to_rewrite, task_kind

ALL = ["instruction", "input", "output"]


@pytest.mark.parametrize(("record", "kind"), [
    ({"instruction": "Write a poem about autumn.", "output": "Leaves fall."}, "open"),
    ({"instruction": "写一首关于秋天的诗。", "output": "落叶纷飞。"}, "open"),
    ({"instruction": "Who wrote Hamlet?", "output": "Shakespeare."}, "factual"),
    ({"instruction": "中国的首都是哪个城市？", "output": "北京。"}, "factual"),
    ({"instruction": "Sort these numbers.", "input": "3 1 2", "output": "1 2 3"}, "factual"),
    ({"instruction": "计算 15 乘以 4。", "output": "60"}, "factual"),
    ({"instruction": "What is 2 + 2?", "output": "4"}, "factual"),
    ({"instruction": "Write a SQL query for all users.", "output": "SELECT * FROM users;"}, "code"),
    ({"instruction": "帮我看看这个。", "output": "```python\nprint(1)\n```"}, "code"),
])
def test_task_kind(record, kind):
    assert task_kind(record) == kind


def test_only_non_empty_fields_and_never_a_factual_answer():
    open_task = {"instruction": "Describe the sea.", "input": "", "output": "Blue and wide."}
    assert fields_to_rewrite(open_task, ALL) == ["instruction", "output"]
    factual = {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"}
    assert fields_to_rewrite(factual, ALL) == ["instruction"]
    assert fields_to_rewrite(factual, ALL, protect_factual=False) == ALL
    assert fields_to_rewrite(open_task, ["output"]) == ["output"]
    assert fields_to_rewrite({"instruction": 3, "output": None}, ALL) == []
