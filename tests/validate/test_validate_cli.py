"""`datacraft validate` end to end: exact output lines and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validate"


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(cli, ["validate", *args], input=input)


def lines(result) -> list[str]:
    return result.output.splitlines()


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the fixtures folder so printed paths are short and exact."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def test_valid_file_exits_0(here: Path) -> None:
    result = run("alpaca_ok.jsonl")
    assert result.exit_code == 0
    assert lines(result) == ["5 records, 0 invalid"]


def test_every_problem_at_its_line(here: Path) -> None:
    result = run("alpaca_bad.jsonl")
    assert result.exit_code == 1
    assert lines(result) == [
        "alpaca_bad.jsonl:2: output: expected a string, got integer 42",
        "alpaca_bad.jsonl:3: invalid JSON: unexpected character, expected a string key (column 2)",
        "alpaca_bad.jsonl:4: expected a JSON object, got array",
        "alpaca_bad.jsonl:6: instruction: missing required field",
        "alpaca_bad.jsonl:7: instruction: is only whitespace",
        "alpaca_bad.jsonl:7: output: is empty",
        "alpaca_bad.jsonl:7: history[0]: expected a [user, assistant] pair of strings, got an array of 3 items",
        "alpaca_bad.jsonl:7: history[1]: expected a [user, assistant] pair of strings, got string",
        "alpaca_bad.jsonl:8: input: expected a string, got boolean false",
        "alpaca_bad.jsonl:8: id: is empty",
        "7 records, 6 invalid",
    ]


def test_max_errors_caps_the_list_and_counts_the_rest(here: Path) -> None:
    result = run("alpaca_bad.jsonl", "--max-errors", "2")
    assert result.exit_code == 1
    assert lines(result)[2:] == ["... and 8 more errors (10 in total)", "7 records, 6 invalid"]
    assert len(lines(result)) == 4
    result = run("alpaca_bad.jsonl", "--max-errors", "0")
    assert lines(result) == ["... and 10 more errors (10 in total)", "7 records, 6 invalid"]


def test_several_files_each_error_names_its_file(here: Path) -> None:
    result = run("alpaca_ok.jsonl", "sharegpt_ok.json", "--schema", "alpaca")
    assert result.exit_code == 1
    assert lines(result) == [
        "sharegpt_ok.json:2: instruction: missing required field (the record has `conversations`: "
        "try --schema sharegpt)",
        "sharegpt_ok.json:2: output: missing required field",
        "sharegpt_ok.json:8: instruction: missing required field (the record has `conversations`: "
        "try --schema sharegpt)",
        "sharegpt_ok.json:8: output: missing required field",
        "7 records, 2 invalid",
    ]


def test_the_default_schema_checks_each_record_by_its_own_form(here: Path) -> None:
    assert lines(run("alpaca_ok.jsonl", "sharegpt_ok.json", "openai_ok.jsonl")) == ["9 records, 0 invalid"]
    result = run("sharegpt_bad.jsonl")
    assert result.exit_code == 1
    # Line 5 is valid preference data (checked as ranking data), line 8 a valid Alpaca record.
    assert sorted({line.split(":")[1] for line in lines(result)[:-1]}) == ["1", "2", "3", "4", "6", "7"]
    assert lines(result)[-1] == "8 records, 6 invalid"


def test_sharegpt_rules(here: Path) -> None:
    assert run("sharegpt_ok.json", "--schema", "sharegpt").exit_code == 0
    result = run("sharegpt_bad.jsonl", "--schema", "sharegpt")
    assert result.exit_code == 1
    assert lines(result) == [
        "sharegpt_bad.jsonl:1: conversations[1].from: 'human' where gpt or function_call is expected: after an "
        "optional system turn, turns alternate human/observation and gpt/function_call",
        "sharegpt_bad.jsonl:2: conversations: ends on a 'human' turn: the last turn must be gpt or function_call, "
        "or LLaMA-Factory drops the sample",
        "sharegpt_bad.jsonl:3: conversations[0].from: unknown role 'user'; expected human, observation, gpt, "
        "function_call or system",
        "sharegpt_bad.jsonl:3: conversations[1].value: is empty",
        "sharegpt_bad.jsonl:4: conversations[0].from: missing required field (the turn has `role`: that is the "
        "openai layout, try --schema openai)",
        "sharegpt_bad.jsonl:4: conversations[0].value: missing required field",
        "sharegpt_bad.jsonl:5: chosen: the record has `chosen`/`rejected`: this is preference (DPO) data, which "
        "LLaMA-Factory reads with \"ranking\": true; validate checks supervised fine-tuning data only",
        "sharegpt_bad.jsonl:6: conversations: has only a system turn: a sample needs a user turn and an "
        "assistant turn",
        "sharegpt_bad.jsonl:7: conversations[1].from: a system turn may only come first",
        "sharegpt_bad.jsonl:8: conversations: missing required field (the record has `instruction`: "
        "try --schema alpaca)",
        "8 records, 8 invalid",
    ]


def test_openai_schema(here: Path, tmp_path: Path) -> None:
    assert lines(run("openai_ok.jsonl", "--schema", "openai")) == ["2 records, 0 invalid"]
    bad = tmp_path / "chat.jsonl"
    bad.write_text('{"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": " "}]}\n')
    result = run(str(bad), "--schema", "openai")
    assert result.exit_code == 1
    assert lines(result)[:2] == [
        f"{bad}:1: messages[1].content: is only whitespace",
        f"{bad}:1: messages[0].role: 'assistant' where user or tool is expected: after an optional system turn, "
        "turns alternate user/tool and assistant",
    ]


def test_unknown_schema_is_a_usage_error(here: Path) -> None:
    result = run("alpaca_ok.jsonl", "--schema", "foo")
    assert result.exit_code == 2
    assert result.output == ("Error: unknown schema 'foo'; choose alpaca, sharegpt, openai or a path to a JSON "
                             "Schema file\n")


def test_schema_file_is_checked_by_jsonschema(tmp_path: Path) -> None:
    schema = tmp_path / "qa.schema.json"
    schema.write_text(json.dumps({
        "type": "object", "required": ["q", "a"], "additionalProperties": False,
        "properties": {"q": {"type": "string", "minLength": 1}, "a": {"type": "integer", "maximum": 10}},
    }))
    data = tmp_path / "qa.jsonl"
    data.write_text('{"q": "x", "a": 3}\n{"q": "", "a": true, "z": 1}\n{"a": 11}\n')
    result = CliRunner().invoke(cli, ["validate", str(data), "--schema", str(schema)])
    assert result.exit_code == 1
    assert sorted(lines(result)[:-1]) == sorted([
        f"{data}:2: Additional properties are not allowed ('z' was unexpected)",
        f"{data}:2: q: is empty",
        f"{data}:2: a: expected integer, got boolean",
        f"{data}:3: q: missing required field",
        f"{data}:3: a: 11 is greater than the maximum of 10",
    ])
    assert lines(result)[-1] == "3 records, 2 invalid"


def test_broken_schema_file_is_a_usage_error(tmp_path: Path) -> None:
    schema = tmp_path / "bad.schema.json"
    schema.write_text('{"type": "nonsense"}')
    result = run("x.jsonl", "--schema", str(schema))
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {schema}: not a valid Draft 2020-12 schema at type: ")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    result = run(str(empty))
    assert result.exit_code == 1
    assert lines(result) == [
        f"{empty}: no records: the file is empty, and an empty training file is almost certainly a mistake",
        "0 records, 0 invalid",
    ]


def test_missing_file_and_directory_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    result = run(str(missing))
    assert result.exit_code == 2
    assert result.output == f"Error: {missing}: file not found\n"
    result = run(str(tmp_path), "--format", "jsonl")
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path}: is a directory, not a file\n"


def test_gbk_bom_and_crlf_files_read_fine(tmp_path: Path) -> None:
    record = {"instruction": "把这句话翻译成英文", "input": "今天天气很好，我们去公园散步吧。", "output": "The weather is nice."}
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes((json.dumps(record, ensure_ascii=False) + "\n").encode("gbk") * 3)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8") * 2)
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(b'{"instruction": "a", "output": "b"}\r\n{"instruction": "a"}\n\r\n{"output": 1, "instruction": "c"}\r\n')
    result = run(str(gbk), str(bom), str(crlf))
    assert lines(result) == [
        f"{crlf}:2: output: missing required field",
        f"{crlf}:4: output: expected a string, got integer 1",
        "8 records, 2 invalid",
    ]


def test_a_10_mb_record_validates(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps({"instruction": "Write a long text", "output": "长" * 10_000_000}) + "\n",
                   encoding="utf-8")
    result = run(str(big))
    assert result.exit_code == 0
    assert lines(result) == ["1 record, 0 invalid"]


def test_stdin(here: Path) -> None:
    result = run("-", input=(FIXTURES / "alpaca_bad.jsonl").read_bytes())
    assert result.exit_code == 1
    assert lines(result)[0] == "<stdin>:2: output: expected a string, got integer 42"
    assert lines(result)[-1] == "7 records, 6 invalid"


def test_strict_flags_unknown_fields_and_blank_strings(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "a", "input": " \\t", "output": "b", "id": "x", "meta": {"k": " "}, "score": 3}\n')
    assert run(str(data)).exit_code == 0  # LLaMA-Factory ignores extra columns
    result = run(str(data), "--forbid-extra")
    assert result.exit_code == 1
    assert lines(result) == [
        f"{data}:1: score: unknown field (allowed: history, id, input, instruction, meta, output, system, tools); "
        "drop it or rename it with --map",
        f"{data}:1: input: is only whitespace",
        "1 record, 1 invalid",
    ]


def test_map_renames_columns_before_checking(tmp_path: Path) -> None:
    data = tmp_path / "qa.csv"
    data.write_text("question,answer\nWhat is 2+2?,4\n", encoding="utf-8")
    assert lines(run(str(data), "--map", "instruction=question", "--map", "output=answer")) == ["1 record, 0 invalid"]


def test_report_file(here: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run("alpaca_bad.jsonl", "alpaca_ok.jsonl", "--report", str(out), "--max-errors", "1")
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    assert report["records"] == 12 and report["invalid"] == 6 and report["errors_total"] == 10
    assert report["counts"] == {"bad_type": 2, "empty_field": 3, "bad_history": 2, "invalid_json": 1,
                                "not_an_object": 1, "missing_field": 1}
    assert report["fields"]["history[]"] == 2 and report["fields"]["(record)"] == 2
    assert report["files"] == [{"path": "alpaca_bad.jsonl", "records": 7, "invalid": 6},
                               {"path": "alpaca_ok.jsonl", "records": 5, "invalid": 0}]
    assert len(report["errors"]) == 1 and report["ok"] is False


def test_report_may_not_overwrite_an_input(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "a", "output": "b"}\n')
    result = run(str(data), "--report", str(data))
    assert result.exit_code == 2
    assert data.read_text() == '{"instruction": "a", "output": "b"}\n'


def test_strict_is_the_common_flag_and_keeps_its_old_meaning_with_a_note(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "a", "output": "b", "score": 3}\n{not json\n{"instruction": "c", "output": "d"}\n')
    plain = run(str(data))
    assert plain.exit_code == 1 and plain.stdout.splitlines()[-1] == "3 records, 1 invalid"  # the bad line is counted
    result = run(str(data), "--strict")
    assert result.exit_code == 2  # as in every command: the first unreadable line is fatal, with its place
    assert result.stderr.splitlines()[0].startswith("note: validate --strict still forbids extra fields")
    assert result.stderr.splitlines()[-1].startswith(f"Error: {data}:2: ")
    data.write_text('{"instruction": "a", "output": "b", "score": 3}\n')
    old = run(str(data), "--strict")
    assert old.exit_code == 1 and old.stdout == run(str(data), "--forbid-extra").stdout
    assert "note:" not in run(str(data), "--strict", "--forbid-extra").stderr
