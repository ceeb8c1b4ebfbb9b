"""Augment on every form: each user and assistant turn is rewritten, tool-call JSON and `tools` never are."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.augment.guard import Guard
from datacraft.augment.turns import TextView
from datacraft.cli import cli

# Tool payloads hold words of the curated list (因此, 许多, 例如; suggest): a rewrite that reached them would show.
SHAREGPT_TOOLS = {
    "conversations": [
        {"from": "human", "value": "我想写一篇关于春天的短文，你能给我一些建议吗？此外，我非常喜欢花。"},
        {"from": "gpt", "value": "当然可以。你可以写许多春天的景色，例如花开和鸟鸣，此外还可以写春雨。"},
        {"from": "human", "value": "如果明天北京下雨，我还能去公园散步吗？"},
        {"from": "function_call", "value": "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\", \"note\": \"许多 因此 例如\"}}"},
        {"from": "observation", "value": "{\"weather\": \"小雨\", \"tip\": \"因此 许多 非常\"}"},
        {"from": "gpt", "value": "明天北京有小雨，因此你可以带上雨伞；虽然下雨，公园依然非常美丽，许多人也会去。"}],
    "tools": "[{\"name\": \"get_weather\", \"description\": \"查询天气，例如北京，因此需要城市名\"}]",
    "system": "你是一个耐心的旅行助手，回答要非常简短并且礼貌，此外不要编造天气信息。"}
OPENAI_TOOLS = {
    "messages": [
        {"role": "system", "content": "You are a travel assistant. Suggest short answers."},
        {"role": "user", "content": "Suggest three things to pack for a rainy weekend trip to the coast."},
        {"role": "assistant", "content": "Pack an umbrella, a light raincoat and a pair of waterproof shoes."},
        {"role": "user", "content": "Suggest a quiet museum to visit in Paris tomorrow afternoon."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"Suggest museum\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"result\": \"Suggest the Musee Rodin\"}"},
        {"role": "assistant", "content": "Visit the Musee Rodin and its garden; finally, book your tickets online."}],
    "tools": [{"type": "function", "function": {"name": "search", "description": "Suggest places", "parameters": {"type": "object"}}}]}
ALPACA_HISTORY = {
    "instruction": "此外，你能再写一句关于夏天的话吗？", "input": "",
    "output": "当然可以。夏天非常炎热，许多人喜欢去海边游泳，因此海滩上总是很热闹。",
    "history": [["写一句关于春天的话。", "春天来了，许多花都开了，例如桃花和杏花，因此公园里非常美丽。"]]}
PREFERENCE = {
    "conversations": [{"from": "human", "value": "给我一些学习英语的建议，例如怎样记住更多单词。"}],
    "chosen": {"from": "gpt", "value": "你可以每天复习新单词，因此记忆会更牢固；此外，许多人用卡片和例句来记，效果非常好。"},
    "rejected": {"from": "gpt", "value": "不用学习，因为英语非常简单，许多人看看电影就会了。"}}
TOOL_ROLES = ("function_call", "observation")


def _augment(tmp_path: Path, records: list[dict], *extra: str) -> tuple[list[dict], list[dict]]:
    """(sources with their ids, augmented copies) of an augment run on `records`."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["augment", str(src), "-o", str(out), "--copies", "4", *extra])
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [r for r in written if "#" not in r["id"]], [r for r in written if "#" in r["id"]]


def _changed(source: list, copy: list) -> list[int]:
    assert len(source) == len(copy)
    return [i for i, (a, b) in enumerate(zip(source, copy, strict=True)) if a != b]


def test_sharegpt_with_tools_every_text_turn_rewritten_tool_json_byte_identical(tmp_path: Path) -> None:
    sources, copies = _augment(tmp_path, [SHAREGPT_TOOLS])
    assert len(copies) >= 2
    turns = SHAREGPT_TOOLS["conversations"]
    changed: set[int] = set()
    for copy in copies:
        assert set(copy) == {"conversations", "tools", "system", "id", "meta"}
        assert copy["tools"] == SHAREGPT_TOOLS["tools"] and copy["system"] == SHAREGPT_TOOLS["system"]
        for i in _changed(turns, copy["conversations"]):
            assert turns[i]["from"] in ("human", "gpt")
            changed.add(i)
        for source_turn, turn in zip(turns, copy["conversations"], strict=True):
            if source_turn["from"] in TOOL_ROLES:
                assert json.dumps(turn, ensure_ascii=False) == json.dumps(source_turn, ensure_ascii=False)
    assert changed & {0, 1}, "the earlier exchange was never rewritten"
    assert changed & {2, 5}, "the last exchange was never rewritten"
    assert sources[0] == {**SHAREGPT_TOOLS, "id": sources[0]["id"]}


def test_openai_tool_calls_kept_and_text_turns_rewritten(tmp_path: Path) -> None:
    _, copies = _augment(tmp_path, [OPENAI_TOOLS])
    assert copies
    messages = OPENAI_TOOLS["messages"]
    changed: set[int] = set()
    for copy in copies:
        assert copy["tools"] == OPENAI_TOOLS["tools"]
        assert copy["messages"][0] == messages[0]  # the system prompt is not a role augment rewrites by default
        assert copy["messages"][4] == messages[4] and copy["messages"][5] == messages[5]
        changed.update(_changed(messages, copy["messages"]))
    assert changed <= {1, 2, 3, 6} and {1, 3} <= changed  # "Suggest" is replaced in both prompts alike


def test_alpaca_history_turns_are_rewritten(tmp_path: Path) -> None:
    _, copies = _augment(tmp_path, [ALPACA_HISTORY])
    assert copies
    assert any(c["history"] != ALPACA_HISTORY["history"] for c in copies)
    for copy in copies:
        assert len(copy["history"]) == 1 and len(copy["history"][0]) == 2
        assert set(copy) == {"instruction", "input", "output", "history", "id", "meta"}


def test_preference_answers_are_rewritten_as_answers(tmp_path: Path) -> None:
    _, copies = _augment(tmp_path, [PREFERENCE])
    assert copies
    assert any(c["chosen"] != PREFERENCE["chosen"] for c in copies)
    assert any(c["rejected"] != PREFERENCE["rejected"] for c in copies)
    for copy in copies:
        assert copy["chosen"]["from"] == copy["rejected"]["from"] == "gpt"


def test_roles_choose_the_turns(tmp_path: Path) -> None:
    _, copies = _augment(tmp_path, [SHAREGPT_TOOLS], "--roles", "user")
    assert copies
    turns = SHAREGPT_TOOLS["conversations"]
    for copy in copies:
        assert all(turns[i]["from"] == "human" for i in _changed(turns, copy["conversations"]))
    _, copies = _augment(tmp_path, [SHAREGPT_TOOLS], "--roles", "system,user,assistant")
    assert any(c["system"] != SHAREGPT_TOOLS["system"] for c in copies)
    assert all(c["tools"] == SHAREGPT_TOOLS["tools"] for c in copies)


def test_bad_roles_are_named() -> None:
    result = CliRunner().invoke(cli, ["augment", "-", "-o", "-", "--roles", "user,tool"], input="")
    assert result.exit_code == 2
    assert "roles" in result.output and "tool" in result.output


def test_view_slots_and_write_back() -> None:
    view = TextView(SHAREGPT_TOOLS)
    assert list(view) == ["history.1", "history.2", "instruction", "output"]
    assert view.exchanges == [["history.1", "history.2"], ["instruction", "output"]]
    assert view.apply({}) == SHAREGPT_TOOLS
    copy = view.apply({"history.1": "A", "output": "B"})
    turns = SHAREGPT_TOOLS["conversations"]
    assert [t["value"] for t in copy["conversations"]] == ["A", *[t["value"] for t in turns[1:5]], "B"]
    assert copy["conversations"][3:5] == turns[3:5] and copy["tools"] == SHAREGPT_TOOLS["tools"]
    assert list(TextView(SHAREGPT_TOOLS, ("user", "assistant", "system"))) == ["system", "history.1", "history.2",
                                                                               "instruction", "output"]


def test_factual_answers_are_protected_per_exchange() -> None:
    record = {"conversations": [
        {"from": "human", "value": "What is the capital of France?"}, {"from": "gpt", "value": "Paris."},
        {"from": "human", "value": "Write a short poem about it."}, {"from": "gpt", "value": "Lights on the Seine..."}]}
    view = TextView(record)
    assert view.factual == {"history.2"}
    assert view.rewritable(["instruction", "output"]) == ["history.1", "instruction", "output"]
    assert view.rewritable(["instruction", "output"], protect_factual=False) == ["history.1", "instruction", "history.2", "output"]


def test_guard_checks_each_exchange() -> None:
    source = {"history.1": "春天来了，花都开了。", "history.2": "很好。", "instruction": "再写一句。",
              "output": "夏天非常炎热，许多人喜欢去海边游泳，因此海滩上总是很热闹，孩子们在沙滩上堆城堡，大人们在树荫下乘凉聊天。"}
    # The earlier exchange is mangled (three times as long); joined with the long last one it would pass.
    copy = {**source, "history.1": "春天来了，花都开了，花都开了，花都开了，花都开了，花都开了。",
            "output": source["output"].replace("许多", "很多")}
    fields = ["history.1", "output"]
    guard = Guard()
    assert guard.drift(copy, source, fields)[0]
    ok, reason, detail = guard.drift(copy, source, fields, [["history.1"], ["output"]])
    assert (ok, reason) == (False, "length_drift") and detail.startswith("history.1: ")


def test_dry_run_shows_every_changed_turn(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(SHAREGPT_TOOLS, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["augment", str(src), "--dry-run", "1"])
    assert result.exit_code == 0, result.output
    shown = [line.strip().rstrip(":") for line in result.output.splitlines() if line.startswith("  ") and line.endswith(":")]
    assert shown and set(shown) <= {"history.1", "history.2", "instruction", "output"}
    assert "function_call" not in result.output and "get_weather" not in result.output
