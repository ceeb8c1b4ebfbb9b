"""`validate --lang`: a warning per record whose answer is not in the expected language."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.validate.language import cjk_share, language_problem


def test_language_problem_cases() -> None:
    assert language_problem({"instruction": "介绍长城", "output": "长城是中国古代的防御工程。"}, "zh") is None
    assert language_problem({"instruction": "介绍长城", "output": "The Great Wall is old."}, "zh") == \
        "answer is in en (CJK share 0%), expected zh"
    # a Chinese answer quoting English terms is still Chinese
    assert language_problem({"instruction": "冬天的词", "output": "冰雪(snow), 寒冷(cold), 热饮(hot drink)"}, "zh") is None
    # code is not counted
    assert language_problem({"instruction": "写代码", "output": "如下：\n```python\nprint('hello world')\n```"}, "zh") is None
    assert language_problem({"instruction": "Hi", "output": "你好，我是助手。"}, "en") == \
        "answer is in zh (CJK share 100%), expected en"
    chat = {"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "Hello, how are you?"}]}
    assert language_problem(chat, "zh") == "answer is in en (CJK share 0%), expected zh"
    assert cjk_share("") is None


def test_validate_lang_warns_without_failing(tmp_path: Path) -> None:
    rows = [{"instruction": "介绍长城", "output": "长城是中国古代的防御工程。"},
            {"instruction": "安排明天的会议", "output": "Certainly, I will schedule a meeting for you tomorrow."}]
    path = tmp_path / "zh.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert f"{path}:2: warning: answer is in en (CJK share 0%), expected zh" in result.output
    assert "1 record with an answer not in zh" in result.output
    stdin = CliRunner().invoke(cli, ["validate", "-", "--lang", "zh"], input=path.read_text())
    assert stdin.exit_code == 2 and "cannot check stdin" in stdin.output
