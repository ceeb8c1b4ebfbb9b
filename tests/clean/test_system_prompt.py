"""A dataset-wide system prompt: set, prepend, --system-if-missing, on every layout, and through `export`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.clean.system_prompt import current_system, with_system
from datacraft.cli import cli

STEER = "请输出中文"


def test_set_prepend_and_if_missing_on_alpaca() -> None:
    bare = {"instruction": "介绍一下长城", "output": "长城是……"}
    has = {**bare, "system": "You are a guide."}
    assert with_system(bare, STEER)["system"] == STEER
    assert with_system(has, STEER)["system"] == STEER
    assert with_system(has, STEER, mode="prepend")["system"] == f"{STEER}\nYou are a guide."
    assert with_system(has, STEER, if_missing=True) == has
    assert with_system(bare, STEER, if_missing=True)["system"] == STEER
    assert "system" not in bare  # inputs are not changed in place


def test_chat_layouts_edit_the_leading_system_turn() -> None:
    chat = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                         {"role": "assistant", "content": "hello"}]}
    out = with_system(chat, STEER, mode="prepend")
    assert out["messages"][0] == {"role": "system", "content": f"{STEER}\nBe brief."}
    assert out["messages"][1:] == chat["messages"][1:] and "system" not in out
    assert chat["messages"][0]["content"] == "Be brief."
    sharegpt = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    assert with_system(sharegpt, STEER)["system"] == STEER
    assert current_system(with_system(sharegpt, STEER)) == STEER


def _zh_file(tmp: Path) -> Path:
    rows = [{"instruction": f"问题{i}：请介绍第{i}个城市", "input": "", "output": f"第{i}个城市很美。"} for i in range(10)]
    rows[0]["system"] = "你是导游。"
    path = tmp / "zh.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_export_system_sets_every_record(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", str(_zh_file(tmp_path)), "-o", str(out), "--val-size", "0",
                                      "--to", "sharegpt", "--system", STEER])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "datacraft_train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 10 and all(r["system"] == STEER for r in rows)
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["datacraft_train"]["columns"]["system"] == "system"


def test_export_system_if_missing_keeps_existing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", str(_zh_file(tmp_path)), "-o", str(out), "--val-size", "0",
                                      "--system", STEER, "--system-if-missing"])
    assert result.exit_code == 0, result.output
    systems = sorted(json.loads(line)["system"] for line in (out / "datacraft_train.jsonl").read_text().splitlines())
    assert systems == sorted([STEER] * 9 + ["你是导游。"])


def test_clean_system_prepend(tmp_path: Path) -> None:
    out = tmp_path / "clean.jsonl"
    result = CliRunner().invoke(cli, ["clean", str(_zh_file(tmp_path)), "-o", str(out), "--no-dedupe",
                                      "--system", STEER, "--system-mode", "prepend"])
    assert result.exit_code == 0, result.output
    systems = [json.loads(line)["system"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(systems) == 10
    assert systems.count(STEER) == 9 and f"{STEER}\n你是导游。" in systems
