"""Mixing: only independent tasks are combined, and every mixed record names all its sources."""

from __future__ import annotations

import random

from datacraft.augment import MixConfig, concat, mix_concat, mix_system

RECORDS = [
    {"id": "a", "instruction": "Name a fruit.", "output": "Apple."},
    {"id": "b", "instruction": "Say hello in French.", "output": "Bonjour."},
    {"id": "c", "instruction": "Continue the story above.", "output": "And then..."},  # refers outside itself
    {"id": "d", "instruction": "Answer.", "output": "Yes.", "history": [["Hi", "Hello"]]},  # multi-turn
    {"id": "e", "instruction": "写一句问候语。", "output": "你好！"},
    {"id": "f", "instruction": "说出一种颜色。", "input": "", "output": "红色。"},
    {"id": "g", "instruction": "Give a synonym of big.", "input": "word: big", "output": "Large."},
]


def test_concat_pairs_independent_tasks_of_one_language():
    mixed = mix_concat(RECORDS, MixConfig(ratio=1.0), random.Random(0))
    pairs = [set(m.sources) for m in mixed]
    assert {"e", "f"} in pairs
    assert len(mixed) == 2 and all(len(p) == 2 for p in pairs)
    used = [s for m in mixed for s in m.sources]
    assert len(used) == len(set(used)) and not {"c", "d"} & set(used)
    english = next(m for m in mixed if "e" not in m.sources)
    assert set(english.sources) <= {"a", "b", "g"}
    zh = next(m for m in mixed if "e" in m.sources).record
    assert zh["instruction"].startswith("请依次完成下面两个任务。\n\n任务一：") and "任务二：" in zh["output"]


def test_concat_layout_keeps_inputs_and_both_answers():
    record = concat(RECORDS[0], RECORDS[6], "en")
    assert record == {"instruction": "Complete the two tasks below, in order.\n\nTask 1: Name a fruit.\n\n"
                                     "Task 2: Give a synonym of big.\nInput: word: big",
                      "input": "", "output": "Task 1:\nApple.\n\nTask 2:\nLarge."}


def test_ratio_and_length_limit():
    assert mix_concat(RECORDS, MixConfig(ratio=0.05), random.Random(0)) == []  # round(7 * 0.05) == 0
    assert len(mix_concat(RECORDS, MixConfig(ratio=0.15), random.Random(0))) == 1  # round(1.05) == 1
    assert mix_concat(RECORDS, MixConfig(ratio=1.0, max_chars=20), random.Random(0)) == []


def test_system_swap_uses_prompts_of_the_same_language_and_names_the_donor():
    records = [{"id": "p", "system": "You are a pirate.", "instruction": "Greet me.", "output": "Ahoy!"},
               {"id": "q", "system": "You are a poet.", "instruction": "Describe rain.", "output": "Soft silver."},
               {"id": "r", "instruction": "说你好。", "output": "你好。"}]
    mixed = mix_system(records, MixConfig(ratio=1.0, modes=["system"]), random.Random(1))
    by_source = {m.sources[0]: m for m in mixed}
    assert set(by_source) == {"p", "q"}  # no Chinese system prompt to give "r"
    assert by_source["p"].record["system"] == "You are a poet." and by_source["p"].sources == ["p", "q"]
    assert by_source["p"].record["instruction"] == "Greet me." and "id" not in by_source["p"].record
    pool = mix_system(records, MixConfig(ratio=1.0, modes=["system"], system_prompts=["你是一位老师。"]), random.Random(1))
    assert [(m.sources, m.record["system"]) for m in pool] == [(["r"], "你是一位老师。")]
