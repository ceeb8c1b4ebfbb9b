"""Every stage on every format: Alpaca, ShareGPT, ShareGPT with tool calls, OpenAI messages, preference.

Each fixture (tests/fixtures/formats/) holds good records, a few bad ones, one exact and one near
copy; the tests check what each stage keeps and drops, and why, through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.records import record_format

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
FORMATS = ("alpaca", "sharegpt", "sharegpt_tools", "openai", "preference")
# What clean drops from each fixture: {record id: (stage, reason)}.
CLEAN_DROPS = {
    "alpaca": {"alpaca:5": ("filter", "refusal"), "alpaca:6": ("filter", "empty_field"),
               "alpaca:7": ("exact_dedupe", "exact_duplicate"), "alpaca:8": ("near_dedupe", "near_duplicate")},
    "sharegpt": {"sharegpt:3": ("filter", "refusal"), "sharegpt:4": ("filter", "repetitive_output"),
                 "sharegpt:5": ("filter", "missing_field"), "sharegpt:7": ("exact_dedupe", "exact_duplicate"),
                 "sharegpt:8": ("near_dedupe", "near_duplicate")},
    "sharegpt_tools": {"sharegpt_tools:4": ("filter", "empty_field"),
                       "sharegpt_tools:5": ("exact_dedupe", "exact_duplicate"),
                       "sharegpt_tools:6": ("near_dedupe", "near_duplicate")},
    "openai": {"openai:4": ("filter", "refusal"), "openai:5": ("exact_dedupe", "exact_duplicate"),
               "openai:6": ("near_dedupe", "near_duplicate")},
    "preference": {"preference:4": ("filter", "empty_field"), "preference:5": ("exact_dedupe", "exact_duplicate"),
                   "preference:6": ("near_dedupe", "near_duplicate")},
}
EXPORT_AS = {"alpaca": "sharegpt", "sharegpt": "openai", "sharegpt_tools": "sharegpt", "openai": "sharegpt",
             "preference": "alpaca"}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", FORMATS)
def test_clean_judges_each_turn_by_role_and_keeps_the_form(name: str, tmp_path: Path) -> None:
    source = FIXTURES / f"{name}.jsonl"
    invoke("clean", source, "-o", tmp_path / "out.jsonl", "--rejects", tmp_path / "rej.jsonl")
    kept, rejects = read(tmp_path / "out.jsonl"), read(tmp_path / "rej.jsonl")
    assert {r["record"]["id"]: (r["stage"], r["reason"]) for r in rejects} == CLEAN_DROPS[name]
    assert len(kept) + len(rejects) == len(read(source))
    originals = {f"{name}:{n}": r for n, r in enumerate(read(source), start=1)}
    for record in kept:
        assert record_format(record) == record_format(originals[record["id"]])  # clean writes what it read
    if name == "sharegpt_tools":  # tool-call JSON and observations are data, left exactly as they were
        for record in kept:
            turns = [t for t in record["conversations"] if t["from"] in ("function_call", "observation")]
            assert turns == [t for t in originals[record["id"]]["conversations"] if t in turns]


def test_alpaca_records_with_different_histories_are_not_duplicates(tmp_path: Path) -> None:
    invoke("dedupe", FIXTURES / "alpaca.jsonl", "-o", tmp_path / "out.jsonl")
    ids = [r["id"] for r in read(tmp_path / "out.jsonl")]
    assert "alpaca:3" in ids and "alpaca:4" in ids  # same last turn, other history


@pytest.mark.parametrize("name", FORMATS)
def test_dedupe_removes_exact_and_near_copies_of_whole_conversations(name: str, tmp_path: Path) -> None:
    invoke("dedupe", FIXTURES / f"{name}.jsonl", "-o", tmp_path / "out.jsonl", "--rejects", tmp_path / "rej.jsonl")
    copies = {rid: why for rid, why in CLEAN_DROPS[name].items() if why[0].endswith("dedupe")}
    assert {r["record"]["id"]: (r["stage"], r["reason"]) for r in read(tmp_path / "rej.jsonl")} == copies
    again = invoke("dedupe", tmp_path / "out.jsonl", "-o", tmp_path / "again.jsonl")
    assert "rejected 0" in again  # idempotent


@pytest.mark.parametrize("name", FORMATS)
def test_validate_reads_every_format(name: str, tmp_path: Path) -> None:
    invoke("clean", FIXTURES / f"{name}.jsonl", "-o", tmp_path / "clean.jsonl")
    output = invoke("validate", tmp_path / "clean.jsonl")
    assert output.splitlines()[-1].endswith(", 0 invalid")
    if name == "openai":  # LLaMA-Factory's own openai layout has no tool_calls: named schemas say so
        result = CliRunner().invoke(cli, ["validate", str(tmp_path / "clean.jsonl"), "--schema", "openai"])
        assert result.exit_code == 1
        assert result.output.splitlines()[-1] == "3 records, 1 invalid"


@pytest.mark.parametrize("name", FORMATS)
def test_export_converts_between_forms_and_stats_reads_every_form(name: str, tmp_path: Path) -> None:
    invoke("clean", FIXTURES / f"{name}.jsonl", "-o", tmp_path / "clean.jsonl")
    cleaned = read(tmp_path / "clean.jsonl")
    fmt = EXPORT_AS[name]
    invoke("export", tmp_path / "clean.jsonl", "-o", tmp_path / "out", "--to", fmt, "--val-size", "0",
           "--name", "t")
    exported = read(tmp_path / "out" / "t_train.jsonl")
    assert len(exported) == len(cleaned)
    assert {record_format(r) for r in exported} == {fmt}
    entry = json.loads((tmp_path / "out" / "dataset_info.json").read_text())["t_train"]
    assert entry.get("ranking", False) == (name == "preference")
    stats = json.loads(invoke("stats", tmp_path / "clean.jsonl", "--json", "-", "--no-near"))
    assert stats["records"] == len(cleaned)


def test_tool_calls_have_no_alpaca_form_and_an_export_of_nothing_fails(tmp_path: Path) -> None:
    calls = [r for r in read(FIXTURES / "sharegpt_tools.jsonl")
             if any(t["from"] == "function_call" for t in r["conversations"])]
    source = tmp_path / "calls.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in calls), encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", str(source), "-o", str(tmp_path / "out"), "--to", "alpaca"])
    assert result.exit_code == 1
    assert result.output == (f"Error: export: no record to export out of {len(calls)} read (export/unconvertible "
                             f"{len(calls)}); nothing written, dataset_info.json unchanged\n")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("name", FORMATS)
def test_run_carries_each_format_end_to_end_and_balances(name: str, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes((FIXTURES / f"{name}.jsonl").read_bytes())
    (tmp_path / "p.yaml").write_text(
        "name: t\noutput_dir: out\ninputs: [{path: in.jsonl}]\n"
        f"stages: [clean, dedupe, validate, {{export: {{format: {EXPORT_AS[name]}, val_size: 0}}}}]\n")
    output = invoke("run", tmp_path / "p.yaml")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    kept = len(read(FIXTURES / f"{name}.jsonl")) - len(CLEAN_DROPS[name])
    assert manifest["totals"] == {"read": len(read(FIXTURES / f"{name}.jsonl")), "kept": kept,
                                  "rejected": len(CLEAN_DROPS[name]), "balanced": True}
    assert output.splitlines()[-1].startswith(f"total: read {manifest['totals']['read']}, kept {kept}")


@pytest.mark.parametrize("history", [[["only one"]], "not a list", [["q", 5]]])
def test_a_bad_history_gets_one_reason_in_every_stage(history, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"instruction": "Hi", "output": "Hello.", "history": history}) + "\n")
    reasons = {}
    cleaned = CliRunner().invoke(cli, ["clean", str(source), "-o", str(tmp_path / "c.jsonl"),
                                       "--rejects", str(tmp_path / "c.rej.jsonl"), "--no-dedupe"])
    assert cleaned.exit_code == 1 and "all 1 records were rejected" in cleaned.output  # kept nothing
    reasons["clean"] = read(tmp_path / "c.rej.jsonl")[0]["reason"]
    (tmp_path / "p.yaml").write_text("output_dir: out\ninputs: [{path: in.jsonl}]\nstages: [validate]\n")
    invoke("run", tmp_path / "p.yaml")
    reasons["validate"] = read(tmp_path / "out" / "02_validate.rejects.jsonl")[0]["reason"]
    result = CliRunner().invoke(cli, ["export", str(source), "-o", str(tmp_path / "x")])
    assert result.exit_code == 1  # nothing left to export: the message names the reason
    reasons["export"] = result.stderr.split("(export/")[1].split(" ")[0]
    assert reasons == {"clean": "bad_history", "validate": "bad_history", "export": "bad_history"}


def test_kto_records_export_with_their_tag_and_mixed_kinds_are_refused(tmp_path: Path) -> None:
    chats = read(FIXTURES / "sharegpt.jsonl")[:2]
    source = tmp_path / "kto.jsonl"
    source.write_text("".join(json.dumps({**r, "kto_tag": n == 0}) + "\n" for n, r in enumerate(chats)))
    invoke("export", source, "-o", tmp_path / "out", "--to", "sharegpt", "--val-size", "0", "--name", "k")
    assert [r["kto_tag"] for r in read(tmp_path / "out" / "k_train.jsonl")] == [True, False]
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text())["k_train"]
    assert info["columns"] == {"messages": "conversations", "system": "system", "kto_tag": "kto_tag"}
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text((FIXTURES / "preference.jsonl").read_text() + (FIXTURES / "sharegpt.jsonl").read_text())
    result = CliRunner().invoke(cli, ["export", str(mixed), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "records have `chosen`: LLaMA-Factory reads a file as preference (or KTO) data or not at all" in result.stderr
