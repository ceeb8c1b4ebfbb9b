"""`review --pairs`: a reviewer's edit is a preference pair, the edit `chosen` and the original `rejected`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.records import to_form
from datacraft.review.pairs import review_pairs

RECORDS = [
    {"instruction": "Name a primary colour.", "input": "", "output": "Red.", "id": "gen-0-0"},
    {"instruction": "Add 2 and 2.", "input": "", "output": "5", "id": "gen-0-1", "system": "Answer with a number.",
     "history": [["Can you do sums?", "Yes."]]},
    {"instruction": "Say hello.", "input": "", "output": "Sure! Hello.", "id": "gen-0-2"},
    {"instruction": "Capital of France?", "input": "", "output": "Paris is the capital.", "id": "gen-0-3"},
    {"instruction": "Spell cat.", "input": "", "output": "C-A-T", "id": "gen-0-4"},
]


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_edits_become_pairs_and_edits_that_make_none_are_counted(tmp_path):
    source = tmp_path / "gen.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    feedback, pairs = tmp_path / "feedback.jsonl", tmp_path / "pairs.jsonl"
    # accept; edit the answer; edit the instruction too; accept; reject
    stdin = "a\ni\n\n\n4\nwrong arithmetic\ni\nSay hello politely.\n\nHello!\nfiller\na\nr\ntoo easy\n"
    result = CliRunner().invoke(cli, ["review", str(source), "--feedback", str(feedback), "-o", str(tmp_path / "out.jsonl"),
                                      "--pairs", str(pairs)], input=stdin)
    assert result.exit_code == 0, result.output
    assert ("wrote 1 preference pairs (edit chosen, original rejected) to " f"{pairs}; edits that make no pair: "
            "1 prompt_edited") in result.output
    assert read(pairs) == [{"instruction": "Add 2 and 2.", "input": "", "system": "Answer with a number.",
                            "history": [["Can you do sums?", "Yes."]], "chosen": "4", "rejected": "5", "id": "gen-0-1",
                            "meta": {"source": "review", "kind": "preference", "reviewer": "human",
                                     "reason": "wrong arithmetic"}}]
    assert to_form(read(pairs)[0], "sharegpt")["chosen"] == {"from": "gpt", "value": "4"}
    # the latest decision counts: a hand-written later edit of the same record replaces the pair
    with feedback.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"instruction": "Add 2 and 2.", "input": "", "output": "5", "id": "gen-0-1",
                                 "system": "Answer with a number.", "history": [["Can you do sums?", "Yes."]],
                                 "verdict": "edited", "reason": "terse", "better": {"instruction": "Add 2 and 2.",
                                 "output": "2 + 2 = 4", "system": "Answer with a number.",
                                 "history": [["Can you do sums?", "Yes."]]}}) + "\n")
        handle.write(json.dumps({"instruction": "Capital of France?", "output": "Paris is the capital.", "id": "gen-0-3",
                                 "verdict": "edited", "reason": "spacing", "better": {
                                     "instruction": "Capital of France?", "output": "Paris is the capital. "}}) + "\n")
    found, skipped = review_pairs(str(feedback))
    assert [(p["chosen"], p["meta"]["reason"]) for p in found] == [("2 + 2 = 4", "terse")]
    assert dict(skipped) == {"prompt_edited": 1, "answer_unchanged": 1}


def test_pairs_must_not_overwrite_an_input(tmp_path):
    source = tmp_path / "gen.jsonl"
    source.write_text(json.dumps(RECORDS[0]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["review", str(source), "--feedback", str(tmp_path / "f.jsonl"),
                                      "-o", str(tmp_path / "out.jsonl"), "--pairs", str(source)], input="q\n")
    assert result.exit_code != 0 and "Error:" in result.output and source.read_text().count("\n") == 1
