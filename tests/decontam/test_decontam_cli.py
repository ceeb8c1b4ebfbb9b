"""`datacraft decontaminate` on the command line: options, errors, exit codes, eval sets in other formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.decontam import all_text, parse_verdict, prompt_text

FIXTURES = Path(__file__).parent.parent / "fixtures" / "decontam"
EVAL_EN = FIXTURES / "eval_en.jsonl"


def _train(tmp: Path, extra: list[dict]) -> Path:
    rows = [json.loads(line) for line in (FIXTURES / "train_clean.jsonl").read_text(encoding="utf-8").splitlines()]
    path = tmp / "train.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + extra), encoding="utf-8")
    return path


def _eval_items() -> list[dict]:
    return [json.loads(line) for line in EVAL_EN.read_text(encoding="utf-8").splitlines()]


def test_cli_drops_copy_and_writes_report(tmp_path: Path) -> None:
    item = _eval_items()[1]
    train = _train(tmp_path, [{"instruction": item["instruction"], "input": "", "output": "2.5 hours"}])
    out, rejects, report = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["decontaminate", str(train), "--against", str(EVAL_EN), "-o", str(out),
                                      "--rejects", str(rejects), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "read 13, kept 12, rejected 1" in result.output
    assert "eval_en: 1 of 8 eval items found (12.5%), 1 training records dropped" in result.output
    assert len(out.read_text().splitlines()) == 12
    entry = json.loads(rejects.read_text())
    assert entry["eval_id"] == "math-2" and entry["reason"] == "eval_overlap"
    assert json.loads(report.read_text())["benchmarks"]["eval_en"]["contamination_rate"] == 0.125


def test_eval_set_in_csv_and_sharegpt(tmp_path: Path) -> None:
    items = _eval_items()
    with open(tmp_path / "bench.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["question", "answer"])
        writer.writeheader()
        writer.writerows({"question": i["instruction"], "answer": i["output"]} for i in items[:4])
    chats = [{"conversations": [{"from": "human", "value": i["instruction"]}, {"from": "gpt", "value": i["output"]}]}
             for i in items[4:]]
    (tmp_path / "chats.json").write_text(json.dumps(chats), encoding="utf-8")
    train = _train(tmp_path, [{"instruction": items[0]["instruction"], "output": "36"},
                              {"messages": [{"role": "user", "content": items[6]["instruction"]},
                                            {"role": "assistant", "content": "10 hours"}]}])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["decontaminate", str(train), "--against", str(tmp_path / "chats.json"),
                                      "--against", str(tmp_path / "bench.csv"), "--map", "instruction=question",
                                      "--map", "output=answer", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "chats: 1 of 4 eval items found" in result.output
    assert "bench: 1 of 4 eval items found" in result.output
    assert "kept 12, rejected 2" in result.output


def test_judge_without_model_is_refused_before_work(tmp_path: Path) -> None:
    train = _train(tmp_path, [])
    result = CliRunner().invoke(cli, ["decontaminate", str(train), "--against", str(EVAL_EN), "-o",
                                      str(tmp_path / "o.jsonl"), "--judge"])
    assert result.exit_code == 2
    assert "Error: --judge needs an LLM endpoint: pass --model NAME (and --base-url URL)" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_missing_eval_file_and_same_output(tmp_path: Path) -> None:
    train = _train(tmp_path, [])
    missing = CliRunner().invoke(cli, ["decontaminate", str(train), "--against", str(tmp_path / "nope.jsonl"),
                                       "-o", str(tmp_path / "o.jsonl")])
    assert missing.exit_code == 2 and f"Error: {tmp_path / 'nope.jsonl'}: file not found" in missing.output
    same = CliRunner().invoke(cli, ["decontaminate", str(train), "--against", str(EVAL_EN), "-o", str(train)])
    assert same.exit_code == 2 and "Error:" in same.output


def test_everything_dropped_is_not_success(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["decontaminate", str(EVAL_EN), "--against", str(EVAL_EN), "-o",
                                      str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert "every record was dropped" in result.output


def test_text_sides_of_each_layout() -> None:
    assert prompt_text({"instruction": "Q", "input": "ctx", "output": "A"}) == "Q\nctx"
    chat = {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"},
                              {"from": "gpt", "value": "A"}]}
    assert prompt_text(chat) == "Q" and all_text(chat) == "S\nQ\nA"
    pref = {"instruction": "Q", "chosen": "good", "rejected": "bad"}
    assert all_text(pref) == "Q\ngood\nbad"


def test_verdict_parser_clean_noisy_empty_garbage() -> None:
    assert parse_verdict('{"same": false, "reason": "x"}') == (False, "x")
    assert parse_verdict('Verdict:\n```json\n{"same": "yes", "reason": "translated",}\n```') == (True, "translated")
    assert parse_verdict("") == (None, "empty reply")
    assert parse_verdict("{not json") == (None, "no JSON verdict in the reply")
    assert parse_verdict('{"same": "perhaps"}') == (None, "unreadable verdict 'perhaps'")


def test_ngram_only_misses_a_short_edited_item_the_default_catches(tmp_path: Path) -> None:
    eval_path = tmp_path / "short.jsonl"
    eval_path.write_text(json.dumps({"id": "s1", "instruction": "Name three rivers that flow through Bavarian mountain towns in spring."}) + "\n")
    train = _train(tmp_path, [{"instruction": "Name three rivers that flow across Bavarian mountain towns in spring.",
                               "output": "The Isar, the Inn and the Lech."}])
    args = ["decontaminate", str(train), "--against", str(eval_path), "-o", str(tmp_path / "o.jsonl"),
            "--rejects", str(tmp_path / "r.jsonl")]
    default = CliRunner().invoke(cli, args)
    assert default.exit_code == 0 and "rejected 1" in default.output
    entry = json.loads((tmp_path / "r.jsonl").read_text())
    assert entry["method"] == "words" and entry["matched_fraction"] == round(10 / 11, 3)
    assert entry["span"] == "name three rivers that flow"  # the first of the two longest runs
    ngram_only = CliRunner().invoke(cli, [*args, "--ngram-only"])
    assert ngram_only.exit_code == 0 and "rejected 0" in ngram_only.output
    both = CliRunner().invoke(cli, [*args, "--ngram-only", "--word-candidates", "0.5"])
    assert both.exit_code == 2 and "contradict" in both.output


def test_unreadable_eval_rows_are_reported_and_fatal_with_strict(tmp_path: Path) -> None:
    bench = tmp_path / "bench.jsonl"
    bench.write_text(EVAL_EN.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    train = _train(tmp_path, [])
    args = ["decontaminate", str(train), "--against", str(bench), "-o", str(tmp_path / "o.jsonl")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert f"note: bench: 1 unreadable rows were not checked (first: {bench}:9: " in result.output
    strict = CliRunner().invoke(cli, [*args, "--strict"])
    assert strict.exit_code == 2 and f"Error: {bench}:9: " in strict.output


def test_translator_options_need_cross_lingual(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["decontaminate", str(_train(tmp_path, [])), "--against", str(EVAL_EN), "-o",
                                      str(tmp_path / "o.jsonl"), "--translator", "marian"])
    assert result.exit_code == 2
    assert "Error: --translator, --model-dir and --translate-to choose how --cross-lingual translates" in result.output
