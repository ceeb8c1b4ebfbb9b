"""The Alpaca view mixing sees chat records through: it keeps the form, the id and the extra columns."""

from __future__ import annotations

import json
from pathlib import Path

from datacraft.augment.chat import from_view, to_view

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
