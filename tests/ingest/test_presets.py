"""Presets: each common layout maps to Alpaca records; what cannot map is a Reject with a reason."""

from __future__ import annotations

import pytest

from datacraft.ingest.presets import PRESETS, conversation, detect_preset, make_converter
from datacraft.records import AlpacaRecord
from datacraft.stages import Reject

auto = make_converter()


def _reason(convert, row) -> str:
    with pytest.raises(Reject) as info:
        convert(row)
    return info.value.reason


def test_alpaca_rows_keep_fields_and_move_unknown_columns_to_meta():
    row = {"instruction": "Add", "input": "2 3", "output": 5, "system": "Be brief", "history": [["hi", "hello"]],
           "category": "math", "id": "x1"}
    assert auto(row) == [{"instruction": "Add", "input": "2 3", "output": "5", "system": "Be brief",
                          "history": [["hi", "hello"]], "meta": {"extra": {"category": "math"}}}]


@pytest.mark.parametrize(("row", "reason"), [
    ({"instruction": "only a question"}, "missing_field"),
    ({"instruction": "  ", "output": "x"}, "empty_field"),
    ({"instruction": ["a"], "output": "x"}, "bad_type"),
    ({"instruction": "q", "output": "a", "history": [["only one"]]}, "bad_history"),
    ({"title": "t", "body": "b"}, "unknown_layout"),
    ({"instruction": "q", "chosen": "good", "rejected": "bad"}, "preference_data"),
])
def test_rows_that_cannot_be_records_are_rejected_with_a_reason(row, reason):
    assert _reason(auto, row) == reason


def test_question_answer_and_prompt_response_columns_match_case_insensitively():
    assert auto({"Question": "Why?", "Answer": "Because.", "context": "ctx"}) == [
        {"instruction": "Why?", "input": "ctx", "output": "Because."}]
    assert auto({"prompt": "Write a haiku", "completion": "Old pond..."}) == [
        {"instruction": "Write a haiku", "input": "", "output": "Old pond..."}]


def test_multi_turn_sharegpt_maps_to_history_and_system():
    row = {"conversations": [{"from": "system", "value": "Be kind"}, {"from": "human", "value": "Hi"},
                             {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "Bye"},
                             {"from": "gpt", "value": "Goodbye"}]}
    record = auto(row)[0]
    assert record == {"instruction": "Bye", "input": "", "output": "Goodbye", "system": "Be kind",
                      "history": [["Hi", "Hello"]]}
    AlpacaRecord.model_validate(record)


def test_tool_turns_are_rejected_by_default_and_kept_as_turns_inline():
    row = {"conversations": [{"from": "human", "value": "Weather?"}, {"from": "function_call", "value": "{\"f\": 1}"},
                             {"from": "observation", "value": "{\"t\": 25}"}, {"from": "gpt", "value": "25 C"}],
           "tools": "[{\"name\": \"f\"}]"}
    assert _reason(auto, row) == "unconvertible"
    inline = make_converter("sharegpt", tool_turns="inline")(row)[0]
    assert inline == {"instruction": "{\"t\": 25}", "input": "", "output": "25 C",
                      "history": [["Weather?", "{\"f\": 1}"]], "meta": {"tools": "[{\"name\": \"f\"}]"}}


def test_a_tool_list_without_tool_turns_is_dropped():
    row = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}], "tools": "[]"}
    assert auto(row) == [{"instruction": "Hi", "input": "", "output": "Hello"}]


@pytest.mark.parametrize(("turns", "reason"), [
    ([("assistant", "I start"), ("user", "odd")], "turn_order"),
    ([("user", "a"), ("assistant", "b"), ("user", "no answer")], "ends_on_user"),
    ([("user", "a"), ("user", "b")], "turn_order"),
    ([("user", ""), ("assistant", "b")], "empty_field"),
    ([], "empty_field"),
])
def test_broken_conversations_are_rejected(turns, reason):
    assert _reason(lambda t: conversation("", t), turns) == reason


def test_openai_messages_join_text_parts_and_reject_images():
    row = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Say "}, {"type": "text", "text": "hi"}]},
                        {"role": "assistant", "content": "Hi!"}]}
    assert auto(row) == [{"instruction": "Say hi", "input": "", "output": "Hi!"}]
    image = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
                          {"role": "assistant", "content": "A cat"}]}
    assert _reason(auto, image) == "non_text_content"
    assert _reason(auto, {"messages": "not a list"}) == "bad_type"
    assert _reason(auto, {"messages": [{"role": "narrator", "content": "x"}]}) == "bad_turn"


def test_openai_tool_calls_count_as_tool_turns():
    row = {"messages": [{"role": "user", "content": "Weather?"},
                        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "function": {"name": "f"}}]},
                        {"role": "tool", "content": "25"}, {"role": "assistant", "content": "25 C"}]}
    assert _reason(auto, row) == "unconvertible"
    record = make_converter("openai", "inline")(row)[0]
    assert record["history"][0][1].startswith('[{"id": "1"') and record["instruction"] == "25"


def test_stanford_seed_tasks_make_one_record_per_instance():
    row = {"id": "seed_task_1", "name": "sentiment", "instruction": "Positive or negative?",
           "instances": [{"input": "Loved it.", "output": "Positive"}, {"input": "Meh.", "output": "Negative"}],
           "is_classification": True}
    records = auto(row)
    assert [(r["input"], r["output"], r["id"]) for r in records] == [
        ("Loved it.", "Positive", "seed_task_1-1"), ("Meh.", "Negative", "seed_task_1-2")]
    assert records[0]["meta"] == {"extra": {"name": "sentiment", "is_classification": True}}
    assert _reason(auto, {"instruction": "x", "instances": []}) == "empty_field"


def test_detect_preset_and_forced_presets():
    assert detect_preset({"instruction": "a", "instances": []}) == "stanford-alpaca"
    assert detect_preset({"messages": []}) == "openai"
    assert detect_preset({"prompt": "p"}) == "prompt-response"
    # A forced preset does not guess: qa on Alpaca columns says what it needed.
    assert _reason(make_converter("qa"), {"instruction": "a", "output": "b"}) == "missing_field"
    assert set(PRESETS) == {"alpaca", "qa", "prompt-response", "sharegpt", "openai", "stanford-alpaca"}
