import pytest

from datacraft.export.formats import (
    alpaca_to_openai,
    alpaca_to_sharegpt,
    chat_text,
    convert,
    record_format,
)
from datacraft.stages import Reject

FULL = {
    "instruction": "Translate the sentence",
    "input": "我爱你",
    "output": "I love you",
    "system": "You are a translator.",
    "history": [["Hi", "Hello!"], ["Can you translate?", "Yes."]],
    "id": "x1",
    "meta": {"source": "test"},
}


def test_alpaca_to_sharegpt_full_record():
    assert alpaca_to_sharegpt(FULL) == {
        "conversations": [
            {"from": "human", "value": "Hi"},
            {"from": "gpt", "value": "Hello!"},
            {"from": "human", "value": "Can you translate?"},
            {"from": "gpt", "value": "Yes."},
            {"from": "human", "value": "Translate the sentence\n我爱你"},
            {"from": "gpt", "value": "I love you"},
        ],
        "system": "You are a translator.",
    }


def test_alpaca_to_sharegpt_without_input_has_no_trailing_newline():
    record = {"instruction": "Name a colour", "input": "", "output": "Red"}
    assert alpaca_to_sharegpt(record) == {
        "conversations": [{"from": "human", "value": "Name a colour"}, {"from": "gpt", "value": "Red"}]}


def test_alpaca_to_openai_full_record():
    assert alpaca_to_openai(FULL) == {
        "messages": [
            {"role": "system", "content": "You are a translator."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Can you translate?"},
            {"role": "assistant", "content": "Yes."},
            {"role": "user", "content": "Translate the sentence\n我爱你"},
            {"role": "assistant", "content": "I love you"},
        ]
    }


def test_alpaca_to_alpaca_keeps_input_separate_and_drops_provenance():
    assert convert(FULL, "alpaca") == {
        "instruction": "Translate the sentence", "input": "我爱你", "output": "I love you",
        "system": "You are a translator.", "history": [["Hi", "Hello!"], ["Can you translate?", "Yes."]]}


def test_sharegpt_and_openai_inputs_convert_to_every_format():
    sharegpt = {"conversations": [{"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"},
                                  {"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}],
                "system": "S"}
    openai = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
                           {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
                           {"role": "assistant", "content": "A2"}]}
    alpaca = {"instruction": "Q2", "input": "", "output": "A2", "system": "S", "history": [["Q1", "A1"]]}
    for record in (sharegpt, openai, alpaca):
        assert convert(record, "alpaca") == alpaca
        assert convert(record, "sharegpt") == sharegpt
        assert convert(record, "openai") == openai


def test_tool_calls_convert_to_sharegpt_only():
    record = {"conversations": [{"from": "human", "value": "Weather?"},
                                {"from": "function_call", "value": '{"name": "weather"}'},
                                {"from": "observation", "value": '{"temp": 20}'},
                                {"from": "gpt", "value": "20 degrees."}],
              "tools": [{"name": "weather"}]}
    out = convert(record, "sharegpt")
    assert out["conversations"] == record["conversations"]
    assert out["tools"] == '[{"name": "weather"}]'  # LLaMA-Factory reads tools as a JSON string
    for fmt in ("alpaca", "openai"):
        with pytest.raises(Reject) as exc:
            convert(record, fmt)
        assert exc.value.reason == "unconvertible"


@pytest.mark.parametrize("record, reason", [
    ({"instruction": "a", "output": "b", "history": [["only one"]]}, "bad_history"),
    ({"instruction": "a", "output": "b", "history": "not a list"}, "bad_history"),
    ({"instruction": 3, "output": "b"}, "bad_type"),
    ({"conversations": [{"from": "robot", "value": "beep"}]}, "bad_turn"),
    ({"messages": "hello"}, "bad_type"),
])
def test_malformed_records_are_rejected_with_a_reason(record, reason):
    with pytest.raises(Reject) as exc:
        convert(record, "sharegpt")
    assert exc.value.reason == reason


def test_record_format_and_chat_text():
    assert [record_format(r) for r in ({"conversations": []}, {"messages": []}, {"instruction": "x"})] == [
        "sharegpt", "openai", "alpaca"]
    assert chat_text(FULL) == "Hi\nHello!\nCan you translate?\nYes.\nTranslate the sentence\n我爱你\nI love you"
    assert chat_text(FULL, system=True).startswith("You are a translator.\nHi\n")
