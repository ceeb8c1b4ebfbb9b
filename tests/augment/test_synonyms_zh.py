"""Chinese synonyms: only members of the word's own Cilin `=` group, never in names, numbers, code or quotes."""

from __future__ import annotations

import json
import random
from collections import Counter

import jieba.posseg
import pytest

from datacraft.augment.script import HANS, HANT, chinese_script, to_script
from datacraft.augment.synonyms_zh import ENTITY_TAGS, load_groups
from tests.augment.conftest import FIXTURES


@pytest.fixture(scope="module")
def groups() -> list[list[str]]:
    return load_groups()


def test_cilin_groups_are_the_true_synonym_groups(groups):
    # Known `=` groups of Cilin (Aa01A01=, Ed... 美丽), and no `#` (related) or `@` (lone word) group.
    assert ["人", "士", "人物", "人士", "人氏", "人选"] in groups
    assert any(g[:3] == ["美丽", "漂亮", "好看"] for g in groups)
    assert not any(g == ["良民", "顺民"] for g in groups)  # Aa01B03# is a "related" group
    assert 9000 < len(groups) < 11000


def test_replacements_come_only_from_the_words_own_group(chinese, groups):
    membership = Counter(w for g in groups for w in g)
    texts = [json.loads(line)["output"] for line in (FIXTURES / "zh.jsonl").read_text(encoding="utf-8").splitlines()]
    pairs = []
    for seed, text in enumerate(texts * 5):
        new, replaced = chinese.replace(text, random.Random(seed), 0.3)
        assert new != text or not replaced
        pairs.extend(replaced)
    assert len(pairs) > 40
    for old, new in pairs:
        old_s, new_s = to_script(old, HANS), to_script(new, HANS)
        own = [g for g in groups if old_s in g]
        assert len(own) == 1 and membership[old_s] == 1, old  # polysemous words are never touched
        assert new_s in own[0] and new_s != old_s, (old, new)
        assert len(old_s) >= 2 and len(new_s) >= 2


def test_known_group_member_is_replaced_by_a_member(chinese, groups):
    own = [g for g in groups if "快乐" in g]
    assert len(own) == 1 and {"愉快", "欢乐", "喜悦"} <= set(own[0])
    seen = set()
    for seed in range(30):
        new, pairs = chinese.replace("今天我很快乐。", random.Random(seed), 1.0)
        assert [old for old, _ in pairs] == ["快乐"]
        assert new == f"今天我很{pairs[0][1]}。"
        seen.add(pairs[0][1])
    assert seen <= set(own[0]) - {"快乐"} and len(seen) > 1


def test_names_places_numbers_code_and_quotes_are_never_touched(chinese):
    tags = jieba.posseg.dt.word_tag_tab
    assert not any(tags.get(word) in ENTITY_TAGS for word in chinese.candidates)
    text = "张三在北京大学学习了3年，他说“这是美丽的校园”，并运行 `美丽 = 1` 和《美丽的神话》。"
    for seed in range(20):
        new, pairs = chinese.replace(text, random.Random(seed), 1.0)
        for kept in ("张三", "北京大学", "3", "“这是美丽的校园”", "`美丽 = 1`", "《美丽的神话》"):
            assert kept in new
        assert all(old not in ("张三", "北京大学", "北京") for old, _ in pairs)


def test_traditional_input_stays_traditional(chinese):
    text = "秋天來了，樹葉漸漸變黃，這是一個美麗的季節，田野裡到處都是豐收的景象。"
    assert chinese_script(text) == HANT
    changed = 0
    for seed in range(10):
        new, pairs = chinese.replace(text, random.Random(seed), 0.5)
        changed += bool(pairs)
        for _, replacement in pairs:
            assert to_script(replacement, HANT) == replacement  # written in Traditional characters
        assert chinese_script(new) == HANT
    assert changed


def test_same_rng_same_result_and_ratio_counts_words(chinese):
    text = "保护环境对人类的生存和发展至关重要，我们应该减少浪费，节约能源。"
    assert chinese.replace(text, random.Random(3), 0.2) == chinese.replace(text, random.Random(3), 0.2)
    _, few = chinese.replace(text, random.Random(3), 0.05)
    _, many = chinese.replace(text, random.Random(3), 1.0)
    assert len(few) == 1 and len(many) > len(few)
