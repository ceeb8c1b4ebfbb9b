"""The default synonym method: reviewed pairs only, in context, with terms, quotes and word lists protected."""

from __future__ import annotations

import json
import random

import pytest

from datacraft.augment import SynonymConfig, SynonymReplacer
from datacraft.augment.curated import CuratedChinese, CuratedEnglish, CuratedSynonyms, is_word_list
from datacraft.augment.lexicon import bundled_pairs, load_pairs, parse_pairs
from datacraft.augment.runner import rng_for
from datacraft.augment.script import HANS, to_script
from datacraft.errors import ConfigError
from tests.augment.conftest import FIXTURES

# The bad swaps the issue found in the old default output (Cilin/WordNet taken whole).
BAD_ZH = [("数据", "数额"), ("数据", "数量"), ("数据", "数目"), ("生成", "变迁"), ("生成", "转变"), ("解释", "分解"),
          ("确保", "担保"), ("助手", "羽翼"), ("质量", "身分")]
BAD_EN = [("identify", "place"), ("learn", "larn"), ("ways", "shipway"), ("person", "somebody"), ("status", "position")]


@pytest.fixture(scope="module")
def replacer() -> SynonymReplacer:
    return SynonymReplacer(SynonymConfig(ratio=1.0, max_words=None))


def every_copy(replacer, record, seeds=range(30)):
    """The copies of `record` for many seeds (each seed picks other words and replacements)."""
    return [replacer({"id": "r", **record}, random.Random(seed)) for seed in seeds]


def test_none_of_the_bad_pairs_is_in_the_list():
    zh, en = bundled_pairs("zh"), bundled_pairs("en")
    for word, bad in BAD_ZH:
        assert all(bad not in pair.replacements for pair in zh.get(word, ())), (word, bad)
    for word, bad in BAD_EN:
        assert all(bad not in pair.replacements for pair in en.get(word, ())), (word, bad)
    assert "learn" not in en and "数据" not in zh and "ways" not in en


@pytest.mark.parametrize("text", ["介绍监督学习和温室气体。", "关闭浏览器的标签页。", "数据科学家的工作是什么？",
                                  "解释数据科学家如何使用监督学习，并确保质量。"])
def test_terms_stay_whole_even_when_their_parts_have_pairs(text):
    # A list where every part of these terms has a partner: only the term dictionary keeps them whole.
    pairs = parse_pairs("数据\t数目\t-\n监督\t督察\t-\n温室\t大棚\t-\n标签\t竹签\t-\n科学家\t学者\t-\n解释\t说明\t-\n", "t")
    engine = CuratedSynonyms(chinese=CuratedChinese(pairs=pairs))
    for seed in range(20):
        changed, done = engine.rewrite({"instruction": text}, {"instruction": "zh"}, random.Random(seed), 1.0)
        new = changed.get("instruction", text)
        for term in ("监督学习", "温室气体", "标签页", "数据科学家"):
            assert text.count(term) == new.count(term), (text, new)
        assert ("数据", "数目") not in [(old, rep) for _, old, rep in done]


def test_user_terms_extend_the_dictionary(tmp_path):
    terms = tmp_path / "terms.txt"
    terms.write_text("# a TV show's name\n非常勇敢 10 nz\n", encoding="utf-8")
    record = {"id": "t", "instruction": "介绍节目非常勇敢，它为什么非常受欢迎？", "output": ""}
    plain = SynonymReplacer(SynonymConfig(ratio=1.0))
    assert "非常勇敢" not in plain(record, random.Random(0)).fields["instruction"]
    mine = SynonymReplacer(SynonymConfig(ratio=1.0, terms=[str(terms)]))
    for seed in range(10):
        new = mine(record, random.Random(seed)).fields["instruction"]
        assert "非常勇敢" in new and "十分受欢迎" in new


def test_no_stutter_where_a_replacement_meets_its_neighbour():
    pairs = parse_pairs("象征\t意味着\t-\n", "t")
    engine = CuratedSynonyms(chinese=CuratedChinese(pairs=pairs))
    def rewrite(text):
        return engine.rewrite({"output": text}, {"output": "zh"}, random.Random(0), 1.0)[0].get("output", text)

    assert rewrite("红色象征着热情。") == "红色象征着热情。"
    assert rewrite("白色象征纯洁。") == "白色意味着纯洁。"
    # All or nothing: one occurrence may not be replaced, so neither is.
    assert rewrite("红色象征着热情，白色象征纯洁。") == "红色象征着热情，白色象征纯洁。"


def test_neighbour_rules_keep_compounds_whole():
    engine = CuratedChinese()
    slots = {s.surface for s in engine.slots("o", "苹果公司的方法很重要，重要人物使用工具，用户使用说明书。")}
    assert "重要" in slots  # 很重要: an adjective on its own
    texts = [s.field for s in engine.slots("o", "重要人物")] + [s.field for s in engine.slots("o", "语音识别")]
    assert texts == []  # 重要 right before a noun, 识别 right after one


def test_english_context_rules_and_fixed_phrases():
    engine = CuratedEnglish()
    found = [s.surface for s in engine.slots("i", "Identify the verb. We identify with them. List 4 ways to learn.")]
    assert found == ["Identify", "List"]  # instruction verbs only at the start of a sentence, with the right object
    text = "Write the story from a third person point of view; keep the status quo. Give me the benefits of tea."
    found = [s.surface for s in engine.slots("i", text)]
    assert found == ["Write", "benefits"] or found == ["benefits"]
    assert [s.surface for s in engine.slots("i", "Write a short poem.")] == ["Write"]
    assert [s.surface for s in engine.slots("i", "Write a function.")] == []
    assert [s.surface for s in engine.slots("i", "It benefits the economy.")] == []  # the verb, not the noun


def test_the_issues_english_failures_do_not_happen(replacer):
    record = {"instruction": "Identify the main idea. Describe the third person point of view and the status quo. "
                             "List 4 ways to learn faster.", "output": ""}
    for rewrite in every_copy(replacer, record):
        new = rewrite.fields.get("instruction", record["instruction"])
        assert "place" not in new and "larn" not in new and "shipway" not in new
        assert "third person point of view" in new and "status quo" in new and "learn" in new


def test_one_word_one_replacement_everywhere_in_the_record(replacer):
    record = {"instruction": "写一篇文章，说明为什么阅读非常重要。", "input": "",
              "output": "阅读非常有益。首先，阅读非常有趣；其次，它让人非常快乐。"}
    for rewrite in every_copy(replacer, record):
        text = rewrite.fields.get("instruction", record["instruction"]) + rewrite.fields.get("output", record["output"])
        assert text.count("非常") in (0, 4)  # all four replaced the same way, or none
        if text.count("非常") == 0:
            assert text.count("十分") == 4


def test_quoted_words_and_word_list_answers_are_left_alone(replacer):
    record = {"instruction": "给出“快乐”的三个同义词。", "input": "", "output": "愉快、开心、高兴"}
    assert is_word_list(record["output"])
    for rewrite in every_copy(replacer, record):
        assert "output" not in rewrite.fields
        assert "快乐" in rewrite.fields.get("instruction", record["instruction"])
    record = {"instruction": "List three synonyms for the word 'important'.", "input": "",
              "output": "essential, crucial, significant"}
    for rewrite in every_copy(replacer, record):
        assert "output" not in rewrite.fields and "'important'" in rewrite.fields.get("instruction", "'important'")


def test_placeholders_numbers_code_and_urls_survive(replacer):
    record = {"instruction": "写一篇关于 {{name}} 的文章，例如 2024 年的 `print(1)` 和 https://example.com/a。",
              "output": "例如 {{author}} 认为 3.5% 非常重要，请访问 www.example.org。"}
    for rewrite in every_copy(replacer, record):
        text = "".join(rewrite.fields.values())
        for span in ("{{name}}", "2024", "`print(1)`", "https://example.com/a", "{{author}}", "3.5%", "www.example.org"):
            assert span in text or not any(span in record[f] for f in rewrite.fields)


def test_traditional_text_is_looked_up_in_simplified_and_written_back_traditional(replacer):
    record = {"instruction": "請寫一篇文章，說明為什麼閱讀非常重要。", "output": ""}
    rewrite = replacer({"id": "t", **record}, random.Random(0))
    assert "十分" in rewrite.fields["instruction"] or "撰寫" in rewrite.fields["instruction"]
    assert "为" not in rewrite.fields["instruction"]


def test_fixture_copies_use_only_listed_pairs_in_their_direction():
    allowed = {(w, r.lower()) for lang in ("zh", "en") for w, entries in load_pairs(lang).items()
               for p in entries for r in p.replacements}
    replacer = SynonymReplacer()
    seen = 0
    for name in ("zh.jsonl", "en.jsonl"):
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            rewrite = replacer(record, rng_for(0, "synonym", record["id"]))
            for old, new in rewrite.info.get("pairs", []):
                seen += 1
                assert (to_script(old, HANS).lower(), to_script(new, HANS).lower()) in allowed, (old, new)
    assert seen >= 10


@pytest.mark.parametrize(("text", "message"), [
    ("例如\n", "t:1: expected word<TAB>replacement[|replacement]<TAB>rules"),
    ("例如\t比如\tnoun\n", "t:1: unknown rule 'noun' (use -, start, n, v, a, prev=REGEX or next=REGEX)"),
    ("# c\n例如\t比如\tnext=^[\n", "t:2: bad next= pattern: unterminated character set at position 1"),
])
def test_a_bad_pair_file_names_its_line(text, message):
    with pytest.raises(ConfigError) as err:
        parse_pairs(text, "t")
    assert str(err.value) == message
