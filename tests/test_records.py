"""The record model: conversions between forms round-trip, and the role-tagged view sees every text."""

import json

import pytest

from datacraft.records import (
    Drop,
    alpaca_view,
    conversation,
    map_texts,
    record_format,
    texts,
    to_form,
)

ALPACA = [
    {"instruction": "Name three primary colors.", "input": "", "output": "Red, blue and yellow."},
    {"instruction": "那北京呢？", "input": "", "output": "北京是中国的首都。", "system": "你是一个地理助手。",
     "history": [["上海是哪个国家的城市？", "上海是中国的城市。"], ["谢谢", "不客气"]]},
    {"instruction": "Pick the better answer.", "input": "", "chosen": "A", "rejected": "B"},
    {"instruction": "Is this good?", "input": "", "output": "Yes.", "kto_tag": False},
]


@pytest.mark.parametrize("record", ALPACA)
def test_alpaca_to_sharegpt_to_openai_to_alpaca_returns_the_same_record(record):
    sharegpt = to_form(record, "sharegpt")
    openai = to_form(sharegpt, "openai")
    back = to_form(openai, "alpaca")
    assert record_format(sharegpt) == "sharegpt" and record_format(openai) == "openai"
    assert back == record


def test_alpaca_input_is_folded_into_the_prompt_as_llamafactory_does():
    record = {"instruction": "Translate", "input": "我爱你", "output": "I love you"}
    back = to_form(to_form(to_form(record, "sharegpt"), "openai"), "alpaca")
    assert back == {"instruction": "Translate\n我爱你", "input": "", "output": "I love you"}
    assert to_form(record, "alpaca") == record  # Alpaca to Alpaca keeps `input` apart


def test_preference_sharegpt_keeps_chosen_and_rejected_as_turns():
    record = {"conversations": [{"from": "human", "value": "Q"}],
              "chosen": {"from": "gpt", "value": "good"}, "rejected": {"from": "gpt", "value": "bad"}}
    assert to_form(record, "sharegpt") == record
    assert to_form(record, "openai") == {"messages": [{"role": "user", "content": "Q"}],
                                         "chosen": {"role": "assistant", "content": "good"},
                                         "rejected": {"role": "assistant", "content": "bad"}}
    assert to_form(record, "alpaca") == {"instruction": "Q", "input": "", "chosen": "good", "rejected": "bad"}


TOOL_CHAT = {
    "conversations": [
        {"from": "human", "value": "Weather in Paris?"},
        {"from": "function_call", "value": '{"name": "weather", "arguments": {"city": "Paris"}}'},
        {"from": "observation", "value": '{"temp": 21}'},
        {"from": "gpt", "value": "21 degrees."},
    ],
    "tools": '[{"name": "weather"}]',
}


def test_openai_tool_calls_read_as_function_turns():
    record = {"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
        {"role": "assistant", "content": "21 degrees."}], "tools": [{"name": "weather"}]}
    assert to_form(record, "sharegpt") == TOOL_CHAT


def test_tool_calls_have_no_alpaca_or_openai_form():
    for fmt in ("alpaca", "openai"):
        with pytest.raises(Drop) as exc:
            to_form(TOOL_CHAT, fmt)
        assert exc.value.reason == "unconvertible"


def test_texts_tags_each_string_with_its_role_and_view_field():
    assert list(texts(TOOL_CHAT)) == [
        ("tools", "tools", '[{"name": "weather"}]'),
        ("user", "instruction", "Weather in Paris?"),
        ("function", "function", '{"name": "weather", "arguments": {"city": "Paris"}}'),
        ("observation", "observation", '{"temp": 21}'),
        ("assistant", "output", "21 degrees."),
    ]
    assert [t[:2] for t in texts(ALPACA[1])] == [
        ("system", "system"), ("user", "history"), ("assistant", "history"), ("user", "history"),
        ("assistant", "history"), ("user", "instruction"), ("user", "input"), ("assistant", "output")]


def test_map_texts_keeps_the_form_and_leaves_the_input_alone():
    record = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
                           {"role": "assistant", "content": "yo"}], "id": "x"}
    out = map_texts(record, lambda role, field, text: text.upper() if role != "system" else text)
    assert out == {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "HI"},
                                {"role": "assistant", "content": "YO"}], "id": "x"}
    assert record["messages"][1]["content"] == "hi"


def test_alpaca_view_of_a_chat():
    view = alpaca_view({"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"},
                                          {"from": "human", "value": "c"}, {"from": "gpt", "value": "d"}],
                        "system": "s"})
    assert view == {"instruction": "c", "input": "", "output": "d", "system": "s", "history": "a\nb"}


@pytest.mark.parametrize("record, reason", [
    ({"instruction": "a", "output": "b", "history": [["one"]]}, "bad_history"),
    ({"instruction": "a", "output": "b", "history": "x"}, "bad_history"),
    ({"instruction": "a", "output": 5}, "bad_type"),
    ({"conversations": [{"from": "robot", "value": "x"}]}, "bad_turn"),
    ({"conversations": ["x"]}, "bad_turn"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{"}}]}]}, "bad_turn"),
    ({"conversations": [], "kto_tag": "yes"}, "bad_type"),
])
def test_broken_structure_gets_one_reason_per_defect(record, reason):
    with pytest.raises(Drop) as exc:
        conversation(record)
    assert exc.value.reason == reason


def test_conversion_output_is_json():
    for record in ALPACA:
        json.dumps(to_form(record, "openai"))


def test_compare_text_fast_path_agrees_with_the_view():
    from pathlib import Path

    from datacraft.records import COMPARE_FIELDS, FIELD_SEP, compare_text

    def by_view(record):
        groups = {f: [] for f in COMPARE_FIELDS}
        for _, field, text in texts(record):
            groups[field].append(text)
        return FIELD_SEP.join(FIELD_SEP.join(groups[f]) for f in COMPARE_FIELDS).rstrip(FIELD_SEP)

    folder = Path(__file__).parent / "fixtures" / "formats"
    records = [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]
    records += ALPACA + [{"instruction": "a", "history": [["q", 1]], "output": None}]
    assert len(records) > 30
    for record in records:
        assert compare_text(record) == by_view(record)


_VALUES = [None, 1, True, "", "x", "  ", [], {}, [1], ["a", "b"], [["a", "b"]], [["a"]],
           {"from": "human", "value": "q"}, {"role": "user", "content": 1},
           [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], [{"role": "assistant", "tool_calls": "x"}],
           [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}]]
_KEYS = ["instruction", "input", "output", "system", "history", "tools", "conversations", "messages", "chosen",
         "rejected", "kto_tag"]


def test_garbage_records_get_a_reason_never_an_exception():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from datacraft.clean import Normalizer, record_filter
    from datacraft.records import compare_text
    from datacraft.validate import get_checker

    normalize, keep, check = Normalizer(), record_filter(), get_checker("auto")

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_VALUES), max_size=6))
    def run(record):
        ok, reason, _ = keep(normalize(record))
        assert ok or reason
        compare_text(record)
        check(record)
        for fmt in ("alpaca", "sharegpt", "openai"):
            try:
                to_form(record, fmt)
            except Drop as drop:
                assert drop.reason in ("bad_type", "bad_history", "bad_turn", "unconvertible")

    run()
