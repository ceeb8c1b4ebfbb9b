"""Augment on chat records: the last exchange is rewritten, the copy keeps the source's form, tool JSON is untouched."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.augment.chat import from_view, to_view
from datacraft.cli import cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats"


def test_view_round_trip_keeps_form_id_and_extra_columns() -> None:
    viewed = 0
    for name in ("sharegpt", "openai", "preference"):
        for line in (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            record = {**json.loads(line), "id": "r1", "meta": {"k": 1}, "extra": 2}
            view = to_view(record)
            viewed += "instruction" in view
            if name == "openai" and "tool_calls" in line:
                continue  # read as a function-call turn: written back as sharegpt would, not as it came
            assert from_view(view) == record
    assert viewed >= 12  # tool calls and an unanswered prompt have no Alpaca view and pass through


def test_augment_writes_chat_copies_in_their_own_form(tmp_path: Path) -> None:
    out = tmp_path / "aug.jsonl"
    result = CliRunner().invoke(cli, ["augment", str(FIXTURES / "sharegpt.jsonl"), str(FIXTURES / "sharegpt_tools.jsonl"),
                                      "-o", str(out), "--method", "synonym", "--lang", "zh",
                                      "--source", "thesaurus"])  # the fixture's chats hold no word of the curated list
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    sources = {f"{name}:{n}": json.loads(line) for name in ("sharegpt", "sharegpt_tools")
               for n, line in enumerate((FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines(), 1)}
    copies = [r for r in records if "#" in r["id"]]
    assert copies  # the Chinese conversations got synonym copies
    for record in records:
        assert "conversations" in record and "_form" not in record and "instruction" not in record
    for copy in copies:
        source = sources[copy["meta"]["augmented_from"]]
        assert copy["conversations"][:-2] == source["conversations"][:-2]  # earlier turns as they were
        assert copy["conversations"] != source["conversations"]
    for record in records:  # originals, tool-call records among them, are passed through as they came
        if "#" not in record["id"]:
            assert {k: v for k, v in record.items() if k != "id"} == sources[record["id"]]
