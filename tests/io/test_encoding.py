"""Encoding detection: BOMs, UTF-16 without a BOM, and GBK told apart from Big5."""

from __future__ import annotations

import codecs

import pytest

from datacraft.io.encoding import detect_encoding

SIMPLIFIED = "问题,答案\n怎么退货？,在订单页面申请退货，我们会尽快处理。\n发票怎么开,下单时填写发票信息即可。\n"
TRADITIONAL = "問題,答案\n怎麼退貨？,在訂單頁面申請退貨，我們會儘快處理。\n發票怎麼開,下單時填寫發票資訊即可。\n"
ASCII = "question,answer\nhello,world\n"


@pytest.mark.parametrize(("text", "written_as", "expected"), [
    (SIMPLIFIED, "gbk", "gb18030"),
    (TRADITIONAL, "gbk", "gb18030"),  # traditional characters written in GBK are still GBK
    (TRADITIONAL, "big5", "big5hkscs"),
    ("營業時間公告\n\n本店週一至週五上午九點營業，週末休息。", "big5", "big5hkscs"),
    ("你好，世界。", "gbk", "gb18030"),
    (SIMPLIFIED, "utf-8", "utf-8"),
    (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
    (SIMPLIFIED, "utf-16", "utf-16"),
    (ASCII, "utf-16-le", "utf-16-le"),
    (ASCII, "utf-16-be", "utf-16-be"),
    (SIMPLIFIED, "utf-16-le", "utf-16-le"),
])
def test_detect_encoding_and_decode_back(text, written_as, expected):
    data = text.encode(written_as)
    assert detect_encoding(data) == expected
    assert data.decode(expected) == text


def test_a_character_cut_by_the_end_of_the_sample_does_not_change_the_answer():
    assert detect_encoding((TRADITIONAL * 3).encode("big5")[:-1]) == "big5hkscs"
    assert detect_encoding((SIMPLIFIED * 3).encode("gbk")[:-1]) == "gb18030"
    assert detect_encoding(codecs.BOM_UTF8 + b"{}") == "utf-8-sig"


_ZH = ["解释一下什么是机器学习", "机器学习是让计算机从数据中学习规律的方法。", "如何退货？", "谢谢", "翻译", "备注", "价格"]
_EN = ["Explain recursion", "Recursion is when a function calls itself.", "What is 2+2?", "4"]


@pytest.mark.parametrize("seed", range(40))
def test_mostly_english_csv_with_a_few_chinese_rows_is_gb18030(seed):
    import random

    rng = random.Random(seed)
    rows = ["instruction,output"] + [f"{rng.choice(_EN)},{rng.choice(_EN)}" for _ in range(rng.randint(20, 200))]
    for _ in range(rng.randint(1, 4)):
        rows.insert(rng.randint(1, len(rows)), f"{rng.choice(_ZH)},{rng.choice(_ZH)}")
    assert detect_encoding("\n".join(rows).encode("gb18030")) == "gb18030"


@pytest.mark.parametrize("text, codec, expected", [
    ("안녕하세요 반갑습니다 테스트입니다 오늘 날씨가 좋네요 ", "cp949", "cp949"),
    ("これは日本語のテストです。よろしくお願いします。", "shift_jis", "cp932"),
    ("Привет, как дела? Это тест. ", "cp1251", "cp1251"),
])
def test_other_legacy_encodings_are_not_taken_for_chinese(text, codec, expected):
    assert detect_encoding((text * 20).encode(codec)) == expected
