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
