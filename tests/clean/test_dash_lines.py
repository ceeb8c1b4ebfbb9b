"""A 200-dash line followed by text, through clean, augment's guard and generate's checks.

The Markdown-rule pattern once backtracked exponentially on such a line (60 dashes: minutes, 80:
weeks). The work is pinned by the step counter of the regex audit, not by a clock.
"""

from __future__ import annotations

from unittest.mock import ANY

import orjson

from datacraft.augment.guard import Guard
from datacraft.clean import CleanConfig, clean_file
from datacraft.clean.filters import _MARKDOWN
from datacraft.generate.accept import ItemChecker
from datacraft.generate.novelty import NoveltyChecker
from tests.regex_steps import Matcher

DASHES = "-" * 200 + " 分割线"
RECORD = {"instruction": "请总结下面这段话的要点。",
          "output": f"第一部分讲的是数据清洗的基本步骤。\n{DASHES}\n第二部分讲的是如何评估模型的效果。"}


def test_markdown_rule_work_is_linear_in_the_dash_run() -> None:
    counts = []
    for n in (100, 200, 400):
        matcher = Matcher(_MARKDOWN)
        matcher.finditer("-" * n + " 分割线")
        counts.append(matcher.steps)
    assert counts[2] < 2.2 * counts[1] < 4.9 * counts[0]
    assert counts[1] < 50 * 200  # tens of steps per character, as for any one-pass scan


def test_clean_passes_the_record(tmp_path) -> None:
    source, out, rejects = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    source.write_bytes(orjson.dumps(RECORD) + b"\n")
    result = clean_file([str(source)], str(out), rejects=str(rejects))
    # Judged, not hung: 200 dashes are 190 repeated 10-grams, so the repetition filter takes it.
    assert (result["kept"], result["rejected"]) == (0, 1)
    assert orjson.loads(rejects.read_bytes())["reason"] == "repetitive_output"


def test_clean_keeps_a_record_with_a_shorter_rule(tmp_path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    record = dict(RECORD, output=RECORD["output"].replace(DASHES, "-" * 12 + " 分割线"))
    source.write_bytes(orjson.dumps(record) + b"\n")
    assert clean_file([str(source)], str(out))["kept"] == 1


def test_augment_guard_judges_the_record() -> None:
    candidate = dict(RECORD, instruction="请概括下面这段文字的要点。")
    assert Guard()(candidate, RECORD, ["instruction"]) == (False, "repetitive_output", ANY)


def test_generate_checks_accept_the_record() -> None:
    checker = ItemChecker(CleanConfig(), NoveltyChecker(), "test-model")
    record, problem = checker._check(dict(RECORD))
    assert record is None and problem["reason"] == "repetitive_output"
