"""`stats` on every form: Alpaca with history, ShareGPT (tool calls), OpenAI (tool_calls), preference, KTO."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.stats import compute_stats, format_summary, render_html
from datacraft.stats.conversations import tool_calls

FIXTURES = Path(__file__).parents[1] / "fixtures"
CHAT = str(FIXTURES / "stats_chat.jsonl")  # one record per form and kind, and one of no known shape
ALPACA = str(FIXTURES / "stats_records.jsonl")


@pytest.fixture(scope="module")
def stats():
    return compute_stats([CHAT], near_duplicates=False)


def test_counts_by_form_and_kind(stats):
    assert stats["records"] == 9 and stats["unrecognised"] == 1 and stats["unreadable"] == 0
    assert stats["formats"] == {"sharegpt": 4, "alpaca": 3, "openai": 2}
    assert stats["conversations"]["kinds"] == {"sft": 4, "preference": 3, "kto": 2}
    assert stats["conversations"]["kto"] == {"desirable": 1, "undesirable": 1}


def test_turns_per_conversation(stats):
    # Alpaca history counts its pairs; an OpenAI message with two tool_calls is one turn; tool results are turns.
    assert stats["conversations"]["turns"] == [[2, 5], [4, 3], [5, 1]]
    assert stats["conversations"]["turns_summary"] == {
        "count": 9, "min": 2, "p50": 2, "p90": 5, "p99": 5, "max": 5, "mean": 3.0}


def test_every_turn_is_measured_by_role(stats):
    chars = stats["lengths"]["chars"]
    # All 8 assistant turns (history and earlier exchanges included), not only each record's last answer.
    assert chars["assistant"] == {"count": 8, "min": 1, "p50": 11, "p90": 26, "p99": 26, "max": 26, "mean": 11.1}
    assert chars["user"] == {"count": 11, "min": 2, "p50": 7, "p90": 16, "p99": 22, "max": 22, "mean": 9.8}
    assert chars["tool_call"]["count"] == 2 and chars["tool_call"]["min"] == len(
        '{"name": "weather", "arguments": {"city": "Oslo"}}')
    assert chars["observation"] == {"count": 3, "min": 5, "p50": 5, "p90": 11, "p99": 11, "max": 11, "mean": 7.0}


def test_tool_calls_and_tools(stats):
    assert stats["conversations"]["tools"] == {
        "records_with_tools": 1, "records_with_calls": 2, "calls": 3, "observations": 3}
    assert (tool_calls('{"name": "f"}'), tool_calls('[{"name": "f"}, {"name": "g"}]'), tool_calls("[oops")) == (1, 2, 1)


def test_preference_lengths_and_length_bias(stats):
    chars = stats["lengths"]["chars"]
    assert chars["chosen"] == {"count": 3, "min": 2, "p50": 3, "p90": 19, "p99": 19, "max": 19, "mean": 8.0}
    assert chars["rejected"] == {"count": 3, "min": 3, "p50": 6, "p90": 13, "p99": 13, "max": 13, "mean": 7.3}
    assert stats["conversations"]["preference"] == {
        "chosen_longer": 1, "rejected_longer": 1, "equal": 1, "pairs": 3, "chosen_longer_share": 0.3333}


def test_a_preference_records_output_is_its_chosen_answer(tmp_path):
    # The old bug: output length 0 for every preference record.
    path = tmp_path / "dpo.jsonl"
    rows = [{"conversations": [{"from": "human", "value": "Q"}], "chosen": {"from": "gpt", "value": "a" * n},
             "rejected": {"from": "gpt", "value": "b" * (10 - n)}} for n in (3, 6, 9)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = compute_stats([str(path)], near_duplicates=False)
    assert result["lengths"]["chars"]["output"] == result["lengths"]["chars"]["chosen"]
    assert result["lengths"]["chars"]["output"]["min"] == 3
    assert result["conversations"]["preference"]["chosen_longer_share"] == 0.6667


def test_text_summary_on_every_form(stats):
    lines = format_summary(stats).splitlines()
    assert lines[0] == "records 9  (records of no known shape 1)"
    assert lines[2] == "kinds     sft 4, preference 3, kto 2"
    for line in ("  per turn, by role",
                 "  assistant           8       1      11      26      26      26    11.1",
                 "turns     2: 5, 4: 3, 5: 1  (p50 2, p90 5, max 5)",
                 "tools     records with tools 1 (11.1%), tool calls 3 in 2 records, observations 3",
                 "preference 3 pairs: chosen longer 33.3%, rejected longer 33.3%, equal 33.3%",
                 "kto       desirable 1, undesirable 1"):
        assert line in lines


def test_alpaca_summary_shows_no_tool_preference_or_kto_lines():
    lines = format_summary(compute_stats([ALPACA], near_duplicates=False)).splitlines()
    assert "kinds     sft 8" in lines and "turns     2: 7, 4: 1  (p50 2, p90 4, max 4)" in lines
    assert not [line for line in lines if line.startswith(("tools", "preference", "kto"))]


def test_html_report_has_the_conversations_section(stats):
    page = render_html(stats)
    assert "<h2>Conversations</h2>" in page and "<td>kinds</td><td>sft 4, preference 3, kto 2</td>" in page
    assert "<p><b>preference</b> 3 pairs: chosen longer 33.3%, rejected longer 33.3%, equal 33.3%</p>" in page
    assert "<td>chosen</td>" in page and "<td>tool_call</td>" in page
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3


def test_stats_cli_json_on_every_form():
    result = CliRunner().invoke(cli, ["stats", CHAT, "--json", "-", "--no-near"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["conversations"]["turns"] == [[2, 5], [4, 3], [5, 1]]
    assert out["lengths"]["chars"]["rejected"]["max"] == len("Hello, friend")


def test_long_conversations_are_shown_in_turn_ranges(tmp_path):
    def chat(n):
        return {"conversations": [{"from": "human" if i % 2 == 0 else "gpt", "value": f"t{i}"} for i in range(n)]}

    path = tmp_path / "long.jsonl"
    sizes = (2, 2, 4, 6, 8, 10, 12, 14, 16, 40)  # nine distinct counts: more than are listed one by one
    path.write_text("".join(json.dumps(chat(n)) + "\n" for n in sizes), encoding="utf-8")
    result = compute_stats([str(path)], near_duplicates=False)
    assert result["conversations"]["turns"] == [[2, 2], [4, 1], [6, 1], [8, 1], [10, 1], [12, 1], [14, 1], [16, 1],
                                                   [40, 1]]
    assert "turns     2: 2, 3-4: 1, 5-8: 2, 9-16: 4, 33-64: 1  (p50 8, p90 16, max 40)" in format_summary(result)
    page = render_html(result)
    assert "<tr><td>9-16</td><td class=n>4</td><td>40.0%</td></tr>" in page


def test_turns_are_counted_in_tokens_too():
    result = compute_stats([CHAT], near_duplicates=False, tokenizer=str.split)
    tokens = result["lengths"]["tokens"]
    assert tokens["assistant"]["count"] == 8 and tokens["assistant"]["max"] == len("Why did the chicken cross?".split())
    assert tokens["rejected"] == {"count": 3, "min": 1, "p50": 1, "p90": 2, "p99": 2, "max": 2, "mean": 1.3}


def test_stats_of_nothing_recognisable_fails(tmp_path):
    path, html, out = tmp_path / "odd.jsonl", tmp_path / "r.html", tmp_path / "s.json"
    path.write_text('{"conversations": 5}\n{"messages": "hi"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats", str(path), "--html", str(html), "--json", str(out)])
    assert result.exit_code == 1
    assert result.stderr == ("Error: stats: no record of a known form out of 2 read (2 of no known shape, 0 unreadable"
                             " rows); check --format and --map\n")
    assert result.stdout.splitlines()[0] == "records 0  (records of no known shape 2)"
    assert json.loads(out.read_text(encoding="utf-8"))["unrecognised"] == 2  # the counts that say why
    assert not html.exists()


def test_stats_json_on_stdout_with_an_html_report(tmp_path):
    html = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["stats", CHAT, "--json", "-", "--html", str(html), "--no-near"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["records"] == 9 and html.exists()
