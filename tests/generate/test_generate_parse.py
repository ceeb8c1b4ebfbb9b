"""The reply parser on clean, noisy, cut-off, empty and garbage model replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacraft.generate import parse_items, to_record
from datacraft.generate.parse import drop_trailing_commas

A = {"instruction": "Name a colour.", "input": "", "output": "Blue."}
B = {"instruction": "Add 2 and 3.", "input": "", "output": "5"}


@pytest.mark.parametrize("reply", [
    '{"items": [{"instruction": "Name a colour.", "input": "", "output": "Blue."}, '
    '{"instruction": "Add 2 and 3.", "input": "", "output": "5"}]}',
    '[{"instruction": "Name a colour.", "input": "", "output": "Blue."}, '
    '{"instruction": "Add 2 and 3.", "input": "", "output": "5"}]',
    'Sure! Here are two examples:\n```json\n[\n  {"instruction": "Name a colour.", "input": "", "output": "Blue."},\n'
    '  {"instruction": "Add 2 and 3.", "input": "", "output": "5"},\n]\n```\nLet me know if you need more.',
    '```\n{"examples": [{"instruction": "Name a colour.", "input": "", "output": "Blue."},'
    ' {"instruction": "Add 2 and 3.", "input": "", "output": "5"}]}\n```',
    '{"instruction": "Name a colour.", "input": "", "output": "Blue."}\n'
    '{"instruction": "Add 2 and 3.", "input": "", "output": "5"}\n',
])
def test_clean_and_noisy_replies_give_the_same_items(reply):
    parsed = parse_items(reply)
    assert parsed.ok and not parsed.partial and parsed.reason is None
    assert [to_record(item)[0] for item in parsed.items] == [A, B]


def test_a_reply_cut_off_by_the_length_limit_keeps_its_complete_items():
    reply = ('```json\n{"items": [{"instruction": "Name a colour.", "input": "", "output": "Blue."}, '
             '{"instruction": "Add 2 and 3.", "input": "", "output": "5"}, {"instruction": "Explain gra')
    parsed = parse_items(reply, "length")
    assert parsed.partial and [to_record(i)[0] for i in parsed.items] == [A, B]


def test_strings_with_braces_and_commas_survive():
    reply = '{"items": [{"instruction": "Fix the code.", "input": "f(x,]", "output": "Use {x: 1},"},]}'
    assert parse_items(reply).items == [{"instruction": "Fix the code.", "input": "f(x,]", "output": "Use {x: 1},"}]


@pytest.mark.parametrize(("reply", "finish", "reason"), [
    ("", "stop", "empty_reply"),
    ("   \n", "stop", "empty_reply"),
    (None, "stop", "empty_reply"),
    ("I'm sorry, I can't help with that.", "stop", "no_json"),
    ("Instruction: name a colour\nOutput: blue", "stop", "no_json"),
    ('{"items": [{"instruction": "a" "output": "b"}', "stop", "invalid_json"),
    ('{"items": [{"instruction": "Explain', "length", "truncated_reply"),
    ('{"status": "done", "count": 3}', "stop", "no_items"),
])
def test_unusable_replies_get_a_reason_not_an_exception(reply, finish, reason):
    parsed = parse_items(reply, finish)
    assert not parsed.ok and parsed.reason == reason and parsed.error


def test_an_object_with_one_answer_field_is_an_item_for_the_schema_check_to_reject():
    assert parse_items('{"answer": 42}').items == [{"answer": 42}]


def test_field_name_variants_are_mapped():
    assert to_record({"question": "Why?", "answer": "Because."})[0] == {
        "instruction": "Why?", "input": "", "output": "Because."}
    assert to_record({"指令": "翻译", "输入": "你好", "输出": "Hello"})[0] == {
        "instruction": "翻译", "input": "你好", "output": "Hello"}
    assert to_record({"instruction": "2+2?", "output": 4})[0]["output"] == "4"
    assert to_record(["not", "a", "dict"]) == (None, "item is a list, not an object")


def test_non_object_items_are_kept_for_the_checker_to_reject():
    parsed = parse_items('["just a string", {"instruction": "a", "output": "b"}]')
    assert parsed.items == ["just a string", {"instruction": "a", "output": "b"}]


def test_drop_trailing_commas_keeps_valid_json_unchanged():
    text = '{"a": [1, 2, {"b": "c,}"}], "d": "e"}'
    assert drop_trailing_commas(text) == text


def test_hard_records_survive_every_reply_shape():
    """Code with lists, nested JSON, brackets, fences and CJK inside answers, in every shape models send."""
    from reply_shapes import misparses

    fixture = Path(__file__).parent.parent / "fixtures" / "generate" / "hard_records.jsonl"
    records = [json.loads(line) for line in fixture.read_text(encoding="utf-8").splitlines()]
    count, wrong = misparses(records, parse_items, lambda item: to_record(item))
    assert count == 5 * 8 and wrong == []


def test_a_code_list_is_not_taken_for_the_items():
    reply = 'Here: ```python\nprint(sorted([3, 1, 2]))\n``` and the data: {"items": [{"instruction": "a", "output": "b"}]}'
    assert parse_items(reply).items == [{"instruction": "a", "output": "b"}]


def test_opening_reasoning_drafts_are_not_items_and_reasoning_alone_is_no_answer():
    draft = '<think>Maybe {"instruction": "draft", "output": "x"}?</think>\n[{"instruction": "a", "output": "b"}]'
    assert parse_items(draft).items == [{"instruction": "a", "output": "b"}]
    only = parse_items('<think>I will write {"instruction": "draft", "output": "x"} and then', "length")
    assert not only.ok and only.reason == "no_json"


def test_the_fullest_list_wins_over_a_short_example_list():
    reply = ('For example [{"instruction": "x", "output": "y"}]. The answer:\n'
             '{"items": [{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}]}')
    assert [i["instruction"] for i in parse_items(reply).items] == ["a", "c"]
