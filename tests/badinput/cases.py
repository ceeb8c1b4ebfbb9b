"""Kinds of bad input, each a file a user could really hand datacraft.

A case is a file name, its bytes, and what reading it must give: `fatal` (nothing can be read:
exit 2 with `path[:line]: what is wrong`), or the number of records and of bad rows it holds.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

GOOD = [
    {"instruction": "Explain what a hash table is in one sentence.",
     "output": "A hash table maps keys to values by hashing each key to a slot in an array."},
    {"instruction": "用一句话解释什么是机器学习。", "output": "机器学习是让计算机从数据中学习规律、并用规律做预测的方法。"},
    {"instruction": "Give one tip for writing clear commit messages.",
     "output": "Say what changed and why in the first line, in under about fifty characters."},
]


def line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def jsonl(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def good_lines() -> list[str]:
    return [line(r) for r in GOOD]


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    content: bytes | Callable[[], bytes]
    fatal: bool = False  # nothing readable: the command must fail with the input's path
    records: int = 0  # rows that are records
    bad: int = 0  # rows that are not (counted and rejected by `read`)
    extra_args: tuple[str, ...] = ()  # read options the case needs (--encoding, --map...)
    fatal_message: str = ""  # a piece of the expected error text for fatal cases ("a|b": either)

    def data(self) -> bytes:
        return self.content() if callable(self.content) else self.content


def _utf16() -> bytes:
    return codecs.BOM_UTF16_LE + ("\n".join(good_lines()) + "\n").encode("utf-16-le")


def _gbk_csv() -> bytes:
    rows = ["instruction,output"] + [f"Explain item {i} in plain words please,Item {i} is a simple thing that "
                                     f"does one job well." for i in range(30)]
    rows.insert(7, "如何申请退货？,在订单页面点击申请退货，然后按照提示填写退货原因即可。")
    rows.insert(20, "发票怎么开,下单时在结算页面填写发票抬头和税号，发货后会收到电子发票。")
    return ("\n".join(rows) + "\n").encode("gbk")


def _gz(text: bytes) -> Callable[[], bytes]:
    return lambda: gzip.compress(text, mtime=0)


def _truncated_gz() -> bytes:
    return gzip.compress(jsonl(*good_lines()) * 50, mtime=0)[:-40]


def _xlsx_two_sheets() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "en"
    first.append(["instruction", "output"])
    first.append([GOOD[0]["instruction"], GOOD[0]["output"]])
    second = book.create_sheet("zh")
    second.append(["instruction", "output"])
    second.append([GOOD[1]["instruction"], GOOD[1]["output"]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _corrupt_parquet() -> bytes:
    return b"PAR1" + bytes(range(256)) * 4 + b"PAR1"


def _deep(depth: int) -> str:
    return '{"instruction": "deep", "output": "x", "meta": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


G = good_lines()
# How commands word "there was nothing in it" (read stage, generate's seeds, validate).
EMPTY = "no records|no seed examples|the file is empty"
CASES: list[Case] = [
    # -- JSON Lines --------------------------------------------------------------------------
    Case("empty_file", "empty.jsonl", b"", fatal=True, fatal_message=EMPTY),
    Case("only_blank_lines", "blank.jsonl", b"\n\n  \n\t\n", fatal=True, fatal_message=EMPTY),
    Case("bom_only", "bom.jsonl", codecs.BOM_UTF8 + b"\n", fatal=True, fatal_message=EMPTY),
    Case("invalid_json_line", "broken.jsonl", jsonl(G[0], "{broken", G[1]), records=2, bad=1),
    Case("truncated_last_line", "cut.jsonl", jsonl(G[0], G[1][:25]), records=1, bad=1),
    Case("not_objects", "scalars.jsonl", jsonl("[1, 2]", '"a string"', "42", "null", G[0]), records=1, bad=4),
    Case("nan_value", "nan.jsonl", jsonl('{"instruction": "x", "output": NaN}', G[0]), records=1, bad=1),
    Case("infinity_value", "inf.jsonl", jsonl('{"instruction": "x", "output": "y", "score": -Infinity}', G[1]),
         records=1, bad=1),
    Case("huge_integer", "bigint.jsonl", jsonl('{"instruction": "x", "output": "y", "n": ' + "9" * 40 + "}", G[0]),
         records=1, bad=1),
    Case("lone_surrogate", "surrogate.jsonl", jsonl('{"instruction": "\\ud800 x", "output": "y"}', G[0]),
         records=1, bad=1),
    Case("deep_nesting", "deep.jsonl", jsonl(_deep(3000), G[0]), records=1, bad=1),
    Case("nesting_orjson_reads_but_cannot_write", "deep300.jsonl", jsonl(_deep(300), G[0]), records=1, bad=1),
    Case("duplicate_keys", "dupkeys.jsonl", jsonl('{"instruction": "first", "instruction": "Explain duplicate '
                                                  'keys in JSON objects briefly.", "output": "The last value wins '
                                                  'in most parsers, which hides data loss."}', G[0]), records=2),
    # Not UTF-8, so the encoding is detected (a Latin code page) and both lines are read.
    Case("latin1_line", "latin1.jsonl", jsonl(G[0]) + b'{"instruction": "caf\xe9", "output": "x"}\n', records=2),
    Case("invalid_utf8_in_utf8_file", "badutf8.jsonl", jsonl(G[1], G[2]) + b'{"instruction": "\xff\xfe", "output": "x"}\n',
         records=2, bad=1, extra_args=("--encoding", "utf-8")),
    Case("nul_byte_in_line", "nul.jsonl", jsonl(G[0]) + b'{"instruction": "a\x00b", "output": "x"}\n',
         records=1, bad=1),
    Case("utf16_with_bom", "utf16.jsonl", _utf16, records=3),
    Case("crlf_line_ends", "crlf.jsonl", jsonl(*G).replace(b"\n", b"\r\n"), records=3),
    Case("random_binary", "binary.jsonl", bytes((i * 73 + 41) % 256 for i in range(3000)).replace(b"\n", b" ")
         + b"\n", records=0, bad=1),
    Case("wrong_field_types", "types.jsonl", jsonl('{"instruction": 42, "output": ["a", "b"]}',
                                                   '{"instruction": {"x": 1}, "output": null}', G[0]), records=3),
    Case("missing_fields", "missing.jsonl", jsonl('{"instruction": "only an instruction"}', '{"output": "only out"}',
                                                  '{"unrelated": 1}', G[1]), records=4),
    Case("control_characters", "control.jsonl", jsonl('{"instruction": "bell \\u0007 and \\u001b[31m", '
                                                      '"output": "escape \\u0000 nul"}', G[0]), records=2),
    Case("huge_line", "huge.jsonl", lambda: jsonl(line({"instruction": "Summarise this.", "output": "word " * 400_000}),
                                                  G[0]), records=2),
    Case("gzip_not_gzip", "fake.jsonl.gz", b"this is not gzip\n", fatal=True, fatal_message="not a readable gzip"),
    Case("gzip_truncated", "cut.jsonl.gz", _truncated_gz, fatal=True, fatal_message="not a readable gzip"),
    Case("gzip_good", "good.jsonl.gz", _gz(jsonl(*G)), records=3),
    Case("unknown_encoding", "enc.jsonl", jsonl(*G), fatal=True, extra_args=("--encoding", "no-such-codec"),
         fatal_message="unknown --encoding"),
    # -- JSON ----------------------------------------------------------------------------------
    Case("concatenated_arrays", "cat.json", f"[{G[0]}]\n[{G[1]},\n{G[2]}]\n".encode(), records=3),
    Case("array_then_lines", "mixed.json", f"[\n{G[0]}\n]\n{G[1]}\n{G[2]}\n".encode(), records=3),
    Case("trailing_garbage", "tail.json", f"[{G[0]}, {G[1]}]\n-- exported by tool v2 --\n".encode(),
         records=2, bad=1),
    Case("unterminated_array", "open.json", f"[\n{G[0]},\n{G[1][:30]}".encode(), records=1, bad=1),
    Case("minified_array", "min.json", ("[" + ",".join(G) + "]").encode(), records=3),
    Case("wrapper_object", "wrapped.json", json.dumps({"version": 1, "data": GOOD}, ensure_ascii=False).encode(),
         records=3),
    Case("top_level_scalar", "scalar.json", b"42\n", fatal=True, fatal_message="not JSON"),
    Case("text_named_json", "notes.json", "这不是 JSON，只是一段文字。\n".encode(), fatal=True, fatal_message="not JSON"),
    Case("array_of_scalars", "numbers.json", b"[1, 2, \"three\", null]", records=0, bad=4),
    Case("nan_in_array", "nan.json", f'[{G[0]}, {{"instruction": "x", "output": NaN}}]'.encode(), records=1, bad=1),
    Case("deep_array", "deep.json", ("[" + _deep(2000) + ", " + G[0] + "]").encode(), records=1, bad=1),
    Case("empty_array", "none.json", b"[]\n", fatal=True, fatal_message=EMPTY),
    Case("trailing_comma", "comma.json", f"[{G[0]},\n{G[1]},\n]".encode(), records=2),
    Case("gbk_json_array", "gbk.json", ("[" + ",\n".join(G) + "]").encode("gb18030"), records=3),
    Case("gzip_json", "good.json.gz", _gz(("[" + ",\n".join(G) + "]").encode()), records=3),
    # -- CSV / TSV -----------------------------------------------------------------------------
    Case("csv_header_only", "header.csv", b"instruction,output\n", fatal=True, fatal_message=EMPTY),
    Case("csv_extra_cells", "extra.csv", b"instruction,output\nq1,a1\nq2,a2,unexpected,cells\nq3,a3\n",
         records=2, bad=1),
    Case("csv_nul_byte", "nul.csv", b"instruction,output\nq1,a\x001\nq2,a2\n", records=2),
    Case("csv_unclosed_quote", "quote.csv", b'instruction,output\nq1,"a1\nq2,a2\n', records=1),
    Case("csv_gbk_mostly_english", "gbk.csv", _gbk_csv, records=32),
    Case("csv_map_missing_column", "faq.csv", b"question,answer\nq1,a1\n", fatal=True,
         extra_args=("--map", "instruction=question", "--map", "output=answr"), fatal_message="no such column"),
    Case("tsv_bad_row", "rows.tsv", b"instruction\toutput\nq1\ta1\nq2\ta2\textra\n", records=1, bad=1),
    # -- other formats -------------------------------------------------------------------------
    Case("unknown_extension", "data.xyz", jsonl(*G), fatal=True, fatal_message="format"),
    Case("xlsx_not_a_zip", "book.xlsx", b"not a workbook", fatal=True, fatal_message="not a readable Excel"),
    Case("xlsx_two_sheets", "two.xlsx", _xlsx_two_sheets, records=2),
    Case("corrupt_parquet", "bad.parquet", _corrupt_parquet, fatal=True, fatal_message="not a readable Parquet"),
    Case("missing_file", "", b"", fatal=True, fatal_message="not found"),
    Case("directory", "folder.jsonl", b"", fatal=True, fatal_message="is a directory|no files to read in this folder"),
]
