"""Each filter keeps good Chinese and English records and drops bad ones, with its reason."""

from __future__ import annotations

import pytest

from datacraft.clean import FilterConfig, record_filter
from datacraft.clean.filters import duplicate_line_ratio, ngram_repetition, prose, symbol_ratio


def _rec(output: str = "A fine answer.", instruction: str = "Explain something.", **extra) -> dict:
    return {"instruction": instruction, "input": "", "output": output, **extra}


def _verdict(record: dict, **config) -> tuple[bool, str, str]:
    return record_filter(FilterConfig(**config))(record)


GOOD = [
    _rec("机器学习是人工智能的一个分支，它让计算机从数据中学习。", "解释什么是机器学习。"),
    _rec("Red, blue and yellow.", "Name three primary colors."),
    _rec("4", "What is 2 + 2?"),
    _rec("是", "地球是圆的吗？"),
    _rec("Hello! I am Nova, an AI assistant developed by Acme. How can I help?", "hi"),
    _rec("抱歉，OpenAI 与我没有关系，我是 Nova，由 Acme 开发。", "OpenAI为什么要制作你？"),
    _rec("As an AI assistant, I suggest three strategies:\n1. Blog posts\n2. Videos\n3. Newsletters", "Suggest marketing ideas."),
    _rec("Large language models are trained on text. As a language model, GPT-3 can write essays.", "What is GPT-3?"),
    _rec("```python\nfor i in range(3):\n    print(i)\n    print(i)\n    print(i)\n```", "Print numbers three times each."),
    _rec("The roots are $x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$.", "Solve ax^2+bx+c=0."),
    _rec("| Name | Age |\n|---|---|\n| A | 1 |\n| B | 2 |", "Make a table."),
    _rec("**Step 1:** Mix.\n**Step 2:** Bake.\n\n### Tips\n- Use butter", "How to bake?"),
    _rec("用户：你好吗？\nAI：我是一个人工智能，所以我没有真实的感受。但我很乐意帮忙！\n用户：谢谢\nAI：不客气",
         "写一个聊天机器人对话脚本。"),
    _rec("Fill in: The capital of France is ________.", "Make a fill-in-the-blank question."),
    _rec("1 + 2 = 3, and 3 × 4 = 12; (a+b)^2 = a^2 + 2ab + b^2", "Show some arithmetic."),
]


@pytest.mark.parametrize("record", GOOD, ids=range(len(GOOD)))
def test_good_records_are_kept(record: dict) -> None:
    assert _verdict(record) == (True, "", "")


@pytest.mark.parametrize("record, reason", [
    ({"instruction": "No answer."}, "missing_field"),
    ({"output": "An answer without a question."}, "missing_field"),
    (_rec(123), "bad_type"),
    (_rec(instruction=["a", "list"]), "bad_type"),
    (_rec(input=5), "bad_type"),
    (_rec(system={"role": "x"}), "bad_type"),
    (_rec(history=[["only one"]]), "bad_history"),  # one reason per defect, in every stage
    (_rec(history="not a list"), "bad_history"),
    (_rec("   \n "), "empty_field"),
    (_rec(instruction=""), "empty_field"),
])
def test_field_checks(record: dict, reason: str) -> None:
    ok, got, detail = _verdict(record)
    assert (ok, got) == (False, reason)
    assert detail


def test_valid_history_and_system_pass() -> None:
    assert _verdict(_rec(system="You are helpful.", history=[["Hi", "Hello"], ["Q", "A"]]))[0]


@pytest.mark.parametrize("record, config, reason, detail", [
    (_rec("..."), {}, "output_too_short", "output: 0 units < 1"),
    (_rec("？！"), {}, "output_too_short", "output: 0 units < 1"),
    (_rec("ok", "?"), {}, "instruction_too_short", "instruction: 0 units < 1"),
    (_rec("word " * 4001), {}, "output_too_long", "output: 4001 units > 4000"),
    (_rec("字" * 4001), {}, "output_too_long", "output: 4001 units > 4000"),
    (_rec("短", "请解释"), {"min_output_length": 2}, "output_too_short", "output: 1 units < 2"),
    (_rec("fine", "x" * 30000), {"max_instruction_length": None}, "too_long", "30004 characters > 24000"),
])
def test_length_checks(record: dict, config: dict, reason: str, detail: str) -> None:
    assert _verdict(record, **config) == (False, reason, detail)


def test_length_checks_switch_off_with_none() -> None:
    config = {"min_output_length": None, "max_output_length": None, "max_total_chars": None,
              "max_ngram_repetition": None, "max_duplicate_lines": None}
    assert _verdict(_rec("..."), **config)[0]
    assert _verdict(_rec("word " * 5000), **config)[0]


@pytest.mark.parametrize("instruction, output", [
    ("Translate to French: good morning", "Translate to French: good morning."),
    ("请重复这句话", "请重复这句话。"),
    ("Describe the ocean in one sentence please", "Describe the ocean in one sentence, please!"),
])
def test_output_repeating_instruction_is_dropped(instruction: str, output: str) -> None:
    ok, reason, _ = _verdict(_rec(output, instruction))
    assert (ok, reason) == (False, "output_repeats_instruction")


def test_output_close_to_but_not_repeating_instruction_is_kept() -> None:
    assert _verdict(_rec("She goes to school.", "Fix the grammar: She go to school."))[0]
    assert _verdict(_rec("Hello!", "hi"))[0]


@pytest.mark.parametrize("output, detail_start", [
    ("哈" * 25, "'哈' repeated 25 times"),
    ("Nooooooooooooooooooooooooo!", "'o' repeated 25 times"),
    ("祝你快乐" * 12, "repeated 10-grams"),
    ("I am fine. " * 10, "repeated 10-grams"),
    ("这是第一行内容\n这是第一行内容\n这是第一行内容\n第二行\n这是第一行内容", "duplicate lines 0.60 > 0.5"),
    ("yes\nyes\nyes\nno\nyes", "duplicate lines 0.60 > 0.5"),
])
def test_repetitive_output_is_dropped(output: str, detail_start: str) -> None:
    ok, reason, detail = _verdict(_rec(output, "Say something."))
    assert (ok, reason) == (False, "repetitive_output")
    assert detail.startswith(detail_start)


def test_repetition_measures() -> None:
    assert ngram_repetition("short") == 0.0
    assert ngram_repetition("The quick brown fox jumps over the lazy dog.") == 0.0
    assert ngram_repetition("ab" * 50) > 0.9
    assert duplicate_line_ratio("a\nb\nc") == 0.0  # too few lines to judge
    assert duplicate_line_ratio("a\nb\nc\nd") == 0.0
    assert duplicate_line_ratio("a\na\na\na") == 0.75


@pytest.mark.parametrize("field, text", [
    ("output", "Great product ★★★★★★ ※※※※ ◆◆◆◆ ####"),
    ("output", "😀😀😀😀😀😀😀😀 ok 😀😀😀😀"),
    ("output", "好评 ####$$$$%%%%@@@@&&&&"),
    ("instruction", "Rate: ★★★★★★★★★★★★ ok"),
])
def test_too_many_symbols(field: str, text: str) -> None:
    record = _rec() | {field: text}
    ok, reason, detail = _verdict(record)
    assert (ok, reason) == (False, "too_many_symbols")
    assert detail.startswith(f"{field}: symbol ratio")


def test_symbol_ratio_spares_code_math_markdown() -> None:
    assert symbol_ratio(prose("**Note:** use `#$@%&` and | pipes | for $a^2 + b_1$")) == 0.0
    assert symbol_ratio("★★★★☆") == 0.0  # too short to judge


@pytest.mark.parametrize("output", [
    "As an AI language model, I cannot access real-time weather data.",
    "I'm sorry, but as an AI language model, I don't have personal opinions.",
    "As an AI, I don't have a physical house, so I cannot describe it.",
    "I’m sorry, but I can’t help with that.",
    "I cannot fulfill this request.",
    "I am an AI and do not have personal preferences.",
    "作为一个AI语言模型，我没有个人观点。",
    "作为一个人工智能助手，我无法拥有自己的经历。",
    "抱歉，我无法为您预订机票。",
    "对不起，由于您未提供文章，我无法总结。",
    "由于我是一个人工智能，我无法给出主观评分。",
    "我无法回答这个问题。",
])
def test_refusals_are_dropped(output: str) -> None:
    ok, reason, detail = _verdict(_rec(output, "Do something for me."))
    assert (ok, reason) == (False, "refusal")
    assert detail


def test_refusal_filter_can_be_switched_off() -> None:
    assert _verdict(_rec("As an AI language model, I cannot do that."), refusal=False)[0]


def test_story_with_apology_mid_text_is_kept() -> None:
    story = "The robot paused.\nI'm sorry, I cannot come tonight, said Tom to his friend.\nThey laughed."
    assert _verdict(_rec(story, "Write a short story."))[0]


def test_blacklist() -> None:
    config = {"blacklist": ["ChatGPT", "敏感词"]}
    assert _verdict(_rec("I was trained by chatgpt."), **config) == (False, "blacklisted_keyword", "ChatGPT")
    assert _verdict(_rec(history=[["这里有敏感词", "好"]]), **config) == (False, "blacklisted_keyword", "敏感词")
    assert _verdict(_rec("Nothing bad here."), **config)[0]


def test_language_filter() -> None:
    config = {"languages": ["zh"]}
    assert _verdict(_rec("这是中文回答。", "请用中文回答。"), **config)[0]
    assert _verdict(_rec("An English answer.", "An English question."), **config) == (
        False, "wrong_language", "en not in ['zh']")
    assert _verdict(_rec("日本語の答えです。", "日本語で答えて。"), languages=["zh", "en"])[1] == "wrong_language"


def test_first_failing_check_wins_and_filters_never_add() -> None:
    keep = record_filter()
    records = [_rec(), {"instruction": "x"}, _rec("哈" * 30), _rec("As an AI language model, I cannot.")]
    kept = [r for r in records if keep(r)[0]]
    assert kept == [records[0]]
    assert keep({"instruction": 5, "output": ""})[1] == "bad_type"


@pytest.mark.parametrize("text", ["-" * 200 + " 分割线", "|" + "-" * 200 + "| x", "--- " * 60 + "end"])
def test_long_dash_runs_followed_by_text_do_not_backtrack(text: str) -> None:
    # The Markdown-rule pattern once split dash runs every way: 60 dashes took minutes, 200 forever.
    assert symbol_ratio(text) < 0.5
    # The whole filter chain returns (the dash run itself is still judged as repetition).
    assert _verdict(_rec("答案如下：\n" + text + "\n第二部分。"))[1] in ("", "repetitive_output")
