"""Each normalisation step on clean, noisy and edge inputs; the Normalizer on whole records."""

from __future__ import annotations

import pytest

from datacraft.clean import NormalizeConfig, Normalizer
from datacraft.clean.normalize import (
    clean_html,
    clean_whitespace,
    fix_mojibake,
    looks_like_html,
    strip_prefix,
    strip_wrapping_quotes,
    to_halfwidth,
    traditional_to_simplified,
)


def _mojibake(text: str) -> str:
    """What a UTF-8 text looks like when read as Windows-1252 (how mojibake is made)."""
    import ftfy.bad_codecs  # noqa: F401 - registers "sloppy-windows-1252"

    return text.encode("utf-8").decode("sloppy-windows-1252")


# --- mojibake ---------------------------------------------------------------------------------

@pytest.mark.parametrize("broken, fixed", [
    ("donâ€™t", "don’t"),
    ("ä½ å¥½", "你好"),  # byte A0 of 你 turned into a plain space
    ("ä½\u00a0å¥½", "你好"),
    (_mojibake("机器学习很有趣"), "机器学习很有趣"),
    (_mojibake("It is “quoted”."), "It is “quoted”."),
    ("naÃ¯ve cafÃ©", "naïve café"),
])
def test_mojibake_is_repaired(broken: str, fixed: str) -> None:
    assert fix_mojibake(broken) == fixed


@pytest.mark.parametrize("text", [
    "你好，世界！这是一段正常的中文。",
    "日本語のテキストです。",
    "He said “hi” and ‘bye’ — fine.",
    'print("héllo")  # café',
    "Ｈｅｌｌｏ",  # width is the fullwidth step's job, not ftfy's
    "",
])
def test_mojibake_leaves_correct_text_alone(text: str) -> None:
    assert fix_mojibake(text) == text


# --- HTML ---------------------------------------------------------------------------------------

def test_html_junk_is_removed() -> None:
    text = '<div><p>Fish &amp; chips</p><script>var x = "<p>";</script><style>p {color: red}</style>' \
           'Line<br/>break&nbsp;here<!-- note --></div>'
    assert looks_like_html(text)
    assert clean_html(text) == "Fish & chips\n\nLine\nbreak\u00a0here\n"


@pytest.mark.parametrize("text", [
    "if a <b and c> d then stop",
    "Vector<int> v; List<String> names;",
    "3 < 4 and 5 > 2",
    "Use the arrow -> here",
])
def test_text_that_only_looks_like_markup_is_not_html(text: str) -> None:
    assert not looks_like_html(text)


def test_record_about_html_keeps_its_tags() -> None:
    record = {"instruction": "Write an HTML snippet with a bold word.", "input": "", "output": "<p>Hi <b>there</b></p>"}
    assert Normalizer()(record)["output"] == "<p>Hi <b>there</b></p>"


def test_html_in_code_block_is_kept() -> None:
    record = {"instruction": "Show a paragraph.", "input": "", "output": "Like this:\n```\n<p>Hi</p>\n```"}
    assert Normalizer()(record)["output"] == "Like this:\n```\n<p>Hi</p>\n```"


def test_html_page_answer_is_kept() -> None:
    page = "<!DOCTYPE html>\n<html>\n<body>\n<p>Hello</p>\n</body>\n</html>"
    record = {"instruction": "Make a page that greets people.", "input": "", "output": page}
    assert Normalizer()(record)["output"] == page


def test_html_junk_in_record_is_cleaned() -> None:
    record = {"instruction": "Summarise.", "input": "<p>Moved to <b>Friday</b>.</p>", "output": "<p>Friday &amp; 10am</p>"}
    out = Normalizer()(record)
    assert (out["input"], out["output"]) == ("Moved to Friday.", "Friday & 10am")


# --- full width ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("ＧＰＴ－４很强！", "GPT-4很强！"),
    ("你好，世界！（注：示例）；好吗？", "你好，世界！（注：示例）；好吗？"),
    ("价格：１００元，增长５０％", "价格：100元，增长50%"),
    ("Ｈｅｌｌｏ，ｗｏｒｌｄ！", "Hello, world!"),
    ("１，０００", "1,000"),
    ("plain ascii", "plain ascii"),
])
def test_fullwidth(text: str, expected: str) -> None:
    assert to_halfwidth(text) == expected


def test_fullwidth_inside_code_is_kept() -> None:
    record = {"instruction": "写代码", "input": "", "output": "用法：`print(\"ＡＢＣ\")`，然后\n```\ns = \"ＸＹＺ\"\n```"}
    assert Normalizer()(record)["output"] == record["output"]


# --- whitespace ---------------------------------------------------------------------------------

def test_whitespace_noise_is_cleaned() -> None:
    text = "  Title  \r\n\r\n\r\n\r\nSome   text\u200b here.\u00a0\u00a0Next\t \ttab\r\n  - nested item  \n\n\n"
    assert clean_whitespace(text) == "Title\n\nSome text here. Next tab\n  - nested item"


def test_whitespace_keeps_code_block_indentation() -> None:
    text = "Code:   \n\n\n\n```python\ndef f(x):\n\n\n\n    return  x   # two spaces\n```\r\nDone.  "
    record = {"instruction": "Write f.", "input": "", "output": text}
    expected = "Code:\n\n```python\ndef f(x):\n\n\n\n    return  x   # two spaces\n```\nDone."
    assert Normalizer()(record)["output"] == expected


def test_whitespace_spares_unfenced_code_alignment() -> None:
    code = "def add(a, b):\n    total = a + b  # sum\n    return total"
    assert clean_whitespace(code + "   \n") == code


def test_whitespace_keeps_ideographic_indent_inside_text() -> None:
    assert clean_whitespace("第一段。\n\u3000\u3000第二段。") == "第一段。\n\u3000\u3000第二段。"


# --- prefixes and quotes ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Answer: 42", "42"),
    ("### Response:\nHello", "Hello"),
    ("output：yes", "yes"),
    ("答案：北京", "北京"),
    ("回答： 可以。", "可以。"),
    ("输出：\n\n-1、-2", "-1、-2"),
    ("Answer:", "Answer:"),  # nothing would be left
    ("A: yes", "A: yes"),  # may be a multiple-choice option
    ("The answer: 42", "The answer: 42"),
])
def test_strip_prefix(text: str, expected: str) -> None:
    assert strip_prefix(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("“你好”", "你好"),
    ('"Hello world"', "Hello world"),
    ("「引用」", "引用"),
    ('"a" and "b"', '"a" and "b"'),
    ("“a” or “b”", "“a” or “b”"),
    ('""', '""'),
    ('"unbalanced', '"unbalanced'),
])
def test_strip_wrapping_quotes(text: str, expected: str) -> None:
    assert strip_wrapping_quotes(text) == expected


def test_prefix_only_in_output_and_quotes_after_prefix() -> None:
    record = {"instruction": "Answer: this is a label", "input": "", "output": '输出： "雷霆，公牛和网队：各显神通!"'}
    out = Normalizer()(record)
    assert out["instruction"] == "Answer: this is a label"
    assert out["output"] == "雷霆，公牛和网队：各显神通!"


# --- Traditional -> Simplified ------------------------------------------------------------------

def test_t2s_off_by_default_and_on_when_enabled() -> None:
    record = {"instruction": "請介紹一下臺灣的夜市。", "input": "", "output": "夜市以小吃聞名。"}
    assert Normalizer()(record) == record
    out = Normalizer(NormalizeConfig(t2s=True))(record)
    assert out["instruction"] == "请介绍一下台湾的夜市。"
    assert out["output"] == "夜市以小吃闻名。"
    assert traditional_to_simplified("简体不变") == "简体不变"


# --- whole records ------------------------------------------------------------------------------

def test_normalizer_covers_system_and_history_and_counts_steps() -> None:
    record = {"instruction": " 那北京呢？ ", "input": "", "output": "答：北京。", "system": "  你是助手。 ",
              "history": [["上海在哪？  ", "  中国。"]], "id": "r1", "meta": {"k": "v"}}
    normalizer = Normalizer()
    out = normalizer(record)
    assert out == {"instruction": "那北京呢？", "input": "", "output": "北京。", "system": "你是助手。",
                   "history": [["上海在哪？", "中国。"]], "id": "r1", "meta": {"k": "v"}}
    assert record["instruction"] == " 那北京呢？ "  # the input record is not modified
    assert normalizer.changes == {"whitespace": 1, "prefix": 1}


def test_normalizer_leaves_odd_types_for_the_filters() -> None:
    record = {"instruction": "x", "output": 123, "history": "not a list", "input": None}
    assert Normalizer()(record) == record


def test_clean_text_is_unchanged() -> None:
    record = {"instruction": "解释什么是机器学习。", "input": "", "output": "机器学习是人工智能的一个分支。"}
    normalizer = Normalizer()
    assert normalizer(record) == record
    assert not normalizer.changes


def test_every_step_can_be_switched_off() -> None:
    off = NormalizeConfig(fix_mojibake=False, html=False, fullwidth=False, whitespace=False,
                          strip_quotes=False, strip_prefixes=False)
    record = {"instruction": "ＧＰＴ  ", "input": "<p>a &amp; b</p>", "output": "Answer: “donâ€™t”"}
    assert Normalizer(off)(record) == record


def test_nfc_always_applies() -> None:
    decomposed = "cafe\u0301"
    out = Normalizer(NormalizeConfig(fix_mojibake=False))({"instruction": decomposed, "output": "x"})
    assert out["instruction"] == "caf\u00e9"
