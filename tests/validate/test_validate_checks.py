"""validate_record: each defect gets the right field and kind; validate_files: counts add up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacraft.errors import InputError, SchemaError
from datacraft.validate import validate_files, validate_record

HI = {"from": "human", "value": "Hi"}
GPT = {"from": "gpt", "value": "Hello"}
SYS = {"from": "system", "value": "Be kind"}
U = {"role": "user", "content": "Hi"}
A = {"role": "assistant", "content": "Hello"}
T = {"role": "tool", "content": "{}"}

CASES = [
    ("alpaca", {"instruction": "a", "output": "b"}, False, []),
    ("alpaca", {"instruction": "a"}, False, [("output", "missing_field")]),
    ("alpaca", {"instruction": "a", "output": False}, False, [("output", "bad_type")]),
    ("alpaca", {"instruction": "a", "output": None}, False, [("output", "bad_type")]),
    ("alpaca", {"instruction": "", "output": "b"}, False, [("instruction", "empty_field")]),
    ("alpaca", {"instruction": "a", "output": "b", "history": [["q", 1], ["q"]]}, False,
     [("history[0]", "bad_history"), ("history[1]", "bad_history")]),
    ("alpaca", {"instruction": "a", "output": "b", "history": "q"}, False, [("history", "bad_history")]),
    ("alpaca", {"instruction": "a", "output": "b", "meta": "src"}, False, [("meta", "bad_type")]),
    ("alpaca", {"instruction": "a", "output": "b", "input": "\u3000"}, False, []),
    ("alpaca", {"instruction": "a", "output": "b", "input": "\u3000"}, True, [("input", "whitespace_only")]),
    ("alpaca", {"instruction": "a", "output": "b", "history": [["q", " "]]}, True,
     [("history[0][1]", "whitespace_only")]),
    ("alpaca", {"instruction": "a", "output": "b", "source": "web"}, True, [("source", "unknown_field")]),
    ("alpaca", {"instruction": "a", "output": "b", "id": "x", "meta": {"note": " "}}, True, []),
    ("alpaca", {"instruction": " ", "output": "b"}, True, [("instruction", "empty_field")]),  # not twice
    ("alpaca", ["not", "a", "record"], False, [("", "not_an_object")]),
    ("sharegpt", {"conversations": [SYS, HI, GPT]}, False, []),
    ("sharegpt", {"conversations": [HI, {"from": "function_call", "value": "{}"},
                                    {"from": "observation", "value": "{}"}, GPT]}, False, []),
    ("sharegpt", {"conversations": [HI, {"from": "function_call", "value": "{}"}]}, False, []),
    ("sharegpt", {"conversations": []}, False, [("conversations", "empty_field")]),
    ("sharegpt", {"conversations": [GPT, HI]}, False, [("conversations[0].from", "turn_order")]),
    ("sharegpt", {"conversations": [SYS, HI]}, False, [("conversations", "ends_on_user")]),
    ("sharegpt", {"conversations": [HI, GPT, {"from": "observation", "value": "{}"}]}, False,
     [("conversations", "ends_on_user")]),
    ("sharegpt", {"conversations": [SYS]}, False, [("conversations", "missing_turns")]),
    ("sharegpt", {"conversations": [HI, GPT, SYS]}, False, [("conversations[2].from", "turn_order")]),
    ("sharegpt", {"conversations": [HI, {"from": "bot", "value": "x"}]}, False,
     [("conversations[1].from", "bad_turn")]),
    ("sharegpt", {"conversations": [HI, "Hello"]}, False, [("conversations[1]", "bad_type")]),
    ("sharegpt", {"conversations": [HI, GPT], "tools": [{"name": "f"}]}, False, [("tools", "bad_type")]),
    ("sharegpt", {"conversations": [HI, GPT], "chosen": GPT, "rejected": GPT}, False,
     [("chosen", "preference_data")]),
    ("openai", {"messages": [{"role": "system", "content": "s"}, U, T, A]}, False,
     [("messages[2].role", "turn_order")]),
    ("openai", {"messages": [U, A, U, A]}, False, []),
    ("openai", {"messages": [U, {"role": "assistant", "content": ""}]}, False,
     [("messages[1].content", "empty_field")]),
    ("openai", {"messages": [U, A, U]}, False, [("messages", "ends_on_user")]),
    ("openai", {"messages": [U, {"role": "assistant", "content": None, "tool_calls": []}]}, False,
     [("messages[1].content", "bad_type")]),
]


@pytest.mark.parametrize(("schema", "record", "strict", "expected"), CASES)
def test_issues(schema: str, record: object, strict: bool, expected: list[tuple[str, str]]) -> None:
    assert [(i.field, i.kind) for i in validate_record(record, schema, strict)] == expected


def test_openai_tool_result_sits_on_the_user_side() -> None:
    # user, assistant (calls a tool), tool (its result), assistant: LLaMA-Factory's observation turn.
    assert validate_record({"messages": [{"role": "system", "content": "s"}, U, A, T, A]}, "openai") == []


def _write(path: Path, rows: list[str]) -> str:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_validate_files_counts_add_up(tmp_path: Path) -> None:
    good = json.dumps({"instruction": "a", "output": "b"})
    a = _write(tmp_path / "a.jsonl", [good, "{oops", json.dumps({"instruction": "a"}), good])
    b = _write(tmp_path / "b.jsonl", [good, "42"])
    report = validate_files([a, b], max_errors=1)
    assert (report.records, report.invalid, report.total_errors) == (6, 3, 3)
    assert [(f.records, f.invalid) for f in report.files] == [(4, 2), (2, 1)]
    assert sum(f.records for f in report.files) == report.records
    assert len(report.errors) == 1 and str(report.errors[0]).startswith(f"{a}:2: invalid JSON")
    assert report.counts == {"invalid_json": 1, "missing_field": 1, "not_an_object": 1}
    assert not report.ok
    assert report.to_dict()["errors"][0]["line"] == 2


def test_validate_files_json_array_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "a",\n   "output": 3}\n]\n')
    report = validate_files([str(path)])
    assert [(e.line, e.field) for e in report.errors] == [(3, "output")]


def test_unknown_schema_fails_before_reading() -> None:
    with pytest.raises(SchemaError, match="unknown schema 'foo'"):
        validate_files(["does-not-exist.jsonl"], schema="foo")
    with pytest.raises(InputError, match="file not found"):
        validate_files(["does-not-exist.jsonl"])
