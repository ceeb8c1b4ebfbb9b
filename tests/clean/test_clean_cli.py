"""`datacraft clean` through Click: exit codes, summary, rejects, --stats, errors, encodings, pipes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonl_io import read_jsonl as _read

from datacraft.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

ZH = [{"instruction": "解释什么是机器学习。", "input": "", "output": "机器学习是人工智能的一个分支。"},
      {"instruction": "把“你好”翻译成英文。", "input": "", "output": "Hello."}]


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # relative paths make error messages exact
    return CliRunner()




def test_clean_writes_output_rejects_stats_and_summary(runner: CliRunner) -> None:
    shutil.copy(FIXTURES / "clean_mixed.jsonl", "raw.jsonl")
    result = runner.invoke(cli, ["clean", "raw.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl",
                                 "--stats", "stats.json", "--no-dedupe"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "read 22, kept 11, rejected 11"
    assert "      invalid_json                      1" in lines
    assert lines[-1] == "wrote 11 records to out.jsonl, rejects to rej.jsonl"
    assert result.stderr == ""
    assert len(_read("out.jsonl")) == 11
    rejects = _read("rej.jsonl")
    assert len(rejects) == 11
    assert {"stage": "filter", "reason": "refusal", "detail": "抱歉，我无法"}.items() <= rejects[5].items()
    stats = json.loads(Path("stats.json").read_text(encoding="utf-8"))
    assert (stats["read"], stats["kept"], stats["rejected"]) == (22, 11, 11)
    assert stats["stages"]["filter"]["reasons"]["refusal"] == 2
    assert stats["reasons"]["read/invalid_json"] == 1


def test_unknown_config_key_exits_2_with_the_key(runner: CliRunner) -> None:
    Path("clean.yaml").write_text("filters:\n  min_lenght: 3\n", encoding="utf-8")
    Path("raw.jsonl").write_text(json.dumps(ZH[0]) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["clean", "raw.jsonl", "-o", "out.jsonl", "--config", "clean.yaml"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: clean.yaml: unknown key 'filters.min_lenght' "
                             "(see `datacraft clean --print-config`)\n")
    assert not Path("out.jsonl").exists()


@pytest.mark.parametrize("args, message", [
    (["missing.jsonl", "-o", "out.jsonl"], "Error: missing.jsonl: file not found\n"),
    (["adir", "-o", "out.jsonl", "--format", "jsonl"], "Error: adir: is a directory, not a file\n"),
    (["raw.jsonl", "-o", "raw.jsonl"],
     "Error: output raw.jsonl is also an input; write to a new file (inputs are never overwritten)\n"),
    (["raw.jsonl", "-o", "out.jsonl", "--against", "eval.jsonl", "--no-dedupe"],
     "Error: --against compares with reference data during dedupe; it cannot be used with dedupe off\n"),
    (["raw.jsonl", "-o", "out.jsonl", "--stats", "raw.jsonl"],
     "Error: --stats raw.jsonl is also an input; write to a new file (inputs are never overwritten)\n"),
    (["raw.jsonl", "-o", "adir"], "Error: output adir is a directory; give a file name, e.g. adir/out.jsonl\n"),
    (["raw.jsonl", "-o", "out.jsonl", "--against", "./raw.jsonl"],
     "Error: raw.jsonl is both an input and a reference (--against); every record would be dropped\n"),
    (["bad.jsonl", "-o", "out.jsonl", "--strict", "--no-dedupe"],
     "Error: bad.jsonl:2: invalid JSON: invalid literal, expected 'null' (column 1)\n"),
])
def test_bad_invocations_exit_2_with_a_message(runner: CliRunner, args: list[str], message: str) -> None:
    Path("adir").mkdir()
    Path("raw.jsonl").write_text(json.dumps(ZH[0]) + "\n", encoding="utf-8")
    Path("bad.jsonl").write_text(json.dumps(ZH[0]) + "\nnot json\n", encoding="utf-8")
    result = runner.invoke(cli, ["clean", *args])
    assert result.exit_code == 2
    assert result.stderr == message
    assert not Path("out.jsonl").exists()
    assert _read("raw.jsonl") == [ZH[0]]


def test_gbk_input_is_read_correctly(runner: CliRunner) -> None:
    Path("gbk.jsonl").write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ZH).encode("gbk"))
    result = runner.invoke(cli, ["clean", "gbk.jsonl", "-o", "out.jsonl", "--no-dedupe"])
    assert result.exit_code == 0, result.output
    assert [(r["instruction"], r["output"]) for r in _read("out.jsonl")] == [
        (r["instruction"], r["output"]) for r in ZH]


def test_bom_and_mixed_line_endings(runner: CliRunner) -> None:
    rows = [{"instruction": "Line\r\nendings", "input": "", "output": "one\r\ntwo\rthree"}, ZH[0]]
    text = json.dumps(rows[0]) + "\r\n" + json.dumps(rows[1], ensure_ascii=False) + "\n"
    Path("bom.jsonl").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = runner.invoke(cli, ["clean", "bom.jsonl", "-o", "out.jsonl", "--no-dedupe"])
    assert result.exit_code == 0, result.output
    out = _read("out.jsonl")
    assert [r["instruction"] for r in out] == ["Line\nendings", ZH[0]["instruction"]]
    assert out[0]["output"] == "one\ntwo\nthree"
    assert out[0]["id"] == "bom:1"


def test_stdin_to_stdout_keeps_stdout_clean(runner: CliRunner) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ZH) + "oops\n"
    result = runner.invoke(cli, ["clean", "-", "-o", "-", "--no-dedupe"], input=data.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert [r["output"] for r in map(json.loads, result.stdout.splitlines())] == [r["output"] for r in ZH]
    assert result.stderr.splitlines()[0] == "read 3, kept 2, rejected 1"
    assert result.stderr.splitlines()[-1] == "wrote 2 records to stdout"


def test_config_file_changes_behaviour(runner: CliRunner) -> None:
    Path("clean.yaml").write_text("normalize:\n  t2s: true\nfilters:\n  blacklist: [翻译]\ndedupe: null\n",
                                  encoding="utf-8")
    rows = [{"instruction": "請解釋機器學習。", "input": "", "output": "機器學習是人工智慧的分支。"}, ZH[1]]
    Path("raw.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(cli, ["clean", "raw.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl",
                                 "--config", "clean.yaml"])
    assert result.exit_code == 0, result.output
    assert [r["instruction"] for r in _read("out.jsonl")] == ["请解释机器学习。"]
    assert [(r["reason"], r["detail"]) for r in _read("rej.jsonl")] == [("blacklisted_keyword", "翻译")]


def test_print_config_needs_no_arguments(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "--print-config"])
    assert result.exit_code == 0
    config = yaml.safe_load(result.stdout)
    assert set(config) == {"normalize", "filters", "dedupe"}
    assert config["filters"]["max_output_length"] == 4000


def test_help_has_an_example(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout and "datacraft clean raw.jsonl -o clean.jsonl" in result.stdout


def test_default_run_includes_dedupe(runner: CliRunner) -> None:
    rows = [ZH[0], ZH[1], dict(ZH[0])]
    Path("raw.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(cli, ["clean", "raw.jsonl", "-o", "out.jsonl", "--stats", "stats.json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "read 3, kept 2, rejected 1"
    stats = json.loads(Path("stats.json").read_text(encoding="utf-8"))
    assert stats["reasons"] == {"exact_dedupe/exact_duplicate": 1}


def test_a_run_that_keeps_nothing_exits_1_and_says_so(runner: CliRunner) -> None:
    Path("in.jsonl").write_text(json.dumps({"instruction": "Say hi.", "input": "", "output": ""}) + "\n",
                                encoding="utf-8")
    result = runner.invoke(cli, ["clean", "in.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"])
    assert result.exit_code == 1, result.output
    assert "Error: out.jsonl: all 1 records were rejected (see rej.jsonl)" in result.output
    assert [r["reason"] for r in _read(Path("rej.jsonl"))] == ["empty_field"]
