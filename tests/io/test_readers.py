import codecs

import pytest

from datacraft.errors import ConfigError, InputError
from datacraft.io import iter_records, iter_rows, parse_mapping, read_records, write_records
from datacraft.io.encoding import detect_encoding

RECORDS = [
    {"instruction": "解释LoRA。", "input": "", "output": "低秩适配。", "id": "a", "meta": {"source": "x:1"}},
    {"instruction": "Say hi", "input": "to Bob", "output": "Hi, Bob!", "history": [["q", "a"]]},
    {"instruction": "多行\n指令", "input": "逗号, 引号\"", "output": "ok", "system": "你是助手"},
]


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet"])
def test_write_then_read_round_trips(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    assert write_records(path, RECORDS) == 3
    back = list(read_records(path))
    if suffix == ".parquet":  # parquet fills absent columns with None
        back = [{k: v for k, v in r.items() if v is not None} for r in back]
        back[1]["history"] = [list(p) for p in back[1]["history"]]
    assert back == RECORDS


def test_csv_round_trip_keeps_strings(tmp_path):
    rows = [{"instruction": "多行\n指令", "output": "逗号, 引号\""}, {"instruction": "b", "output": ""}]
    write_records(tmp_path / "d.csv", rows)
    assert list(read_records(tmp_path / "d.csv")) == rows


def test_gbk_csv_is_detected_and_line_numbers_count_physical_lines(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_bytes('question,answer\n"怎么\n退货？",在订单页申请\n发票怎么开,下单时填写\n'.encode("gbk"))
    rows = list(iter_rows(path))
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].value == {"question": "怎么\n退货？", "answer": "在订单页申请"}


def test_mapping_renames_columns(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer,topic\nQ1,A1,t\n", encoding="utf-8")
    mapping = parse_mapping(["instruction=question", "output=answer"])
    assert list(read_records(path, mapping=mapping)) == [{"topic": "t", "instruction": "Q1", "output": "A1"}]


@pytest.mark.parametrize("bad", ["instruction", "=x", "instruction="])
def test_bad_mapping_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="expected FIELD=COLUMN"):
        parse_mapping([bad])


def test_utf8_bom_json_array(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(codecs.BOM_UTF8 + '[\n  {"a": "中"},\n  {"b": 2}\n]'.encode())
    assert [(r.line, r.value) for r in iter_rows(path)] == [(2, {"a": "中"}), (3, {"b": 2})]


def test_jsonl_bad_lines_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"a": 1}\r\n{broken\r\n\r\n[1, 2]\n{"b": 2}\n')
    bad = []
    good = list(iter_records(path, on_bad=bad.append))
    assert [(r.line, r.value) for r in good] == [(1, {"a": 1}), (5, {"b": 2})]
    assert [(b.line, b.reason) for b in bad] == [(2, "invalid_json"), (4, "not_an_object")]
    assert bad[0].raw == "{broken"


def test_strict_makes_first_bad_line_fatal(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"a": 1}\n"just a string"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"mixed.jsonl:2: expected a JSON object, got str"):
        list(read_records(path, strict=True))


def test_json_file_holding_json_lines_is_read_as_lines(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    assert list(read_records(path)) == [{"a": 1}, {"a": 2}]


def test_broken_json_array_element_is_a_bad_row_with_its_line(tmp_path):
    # Was fatal; now the bad element is a counted bad row and the rest of the array is still read.
    path = tmp_path / "broken.json"
    path.write_text('[\n {"a": 1},\n {"a": },\n {"a": 3}\n]', encoding="utf-8")
    bad = []
    assert [(r.line, r.value) for r in iter_records(path, on_bad=bad.append)] == [(2, {"a": 1}), (4, {"a": 3})]
    assert [(b.line, b.reason) for b in bad] == [(3, "invalid_json")]
    with pytest.raises(InputError, match=r"broken.json:3: invalid JSON"):
        list(iter_records(path, strict=True))


def test_empty_file_yields_nothing(tmp_path):
    for name in ("e.jsonl", "e.json", "e.csv"):
        (tmp_path / name).write_bytes(b"")
        assert list(iter_rows(tmp_path / name)) == []


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="nope.jsonl: file not found"):
        list(iter_rows(tmp_path / "nope.jsonl"))
    (tmp_path / "d.jsonl").mkdir()
    with pytest.raises(InputError, match="d.jsonl: is a directory, not a file"):
        list(iter_rows(tmp_path / "d.jsonl"))


def test_unknown_suffix_asks_for_format(tmp_path):
    (tmp_path / "x.dat").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="pass --format"):
        list(iter_rows(tmp_path / "x.dat"))


def test_ten_megabyte_line(tmp_path):
    path = tmp_path / "big.jsonl"
    big = "长" * (10 * 1024 * 1024 // 3)
    write_records(path, [{"instruction": "x", "output": big}])
    assert next(read_records(path))["output"] == big


def test_undecodable_line_is_a_counted_bad_row(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": "ok"}\n' * 3 + b'{"a": "\xff\xfe\xfd"}\n{"a": "ok"}\n')
    rows = list(iter_rows(path, encoding="utf-8"))
    assert [r.reason for r in rows] == [None, None, None, "decode_error", None]
    assert rows[3].line == 4 and "pass --encoding" in rows[3].error


def test_gbk_jsonl_is_detected(tmp_path):
    path = tmp_path / "gbk.jsonl"
    path.write_bytes('{"instruction": "怎么退货？", "output": "在订单页申请售后。"}\r\n'.encode("gbk") * 2)
    assert [r["output"] for r in read_records(path)] == ["在订单页申请售后。"] * 2


def test_detect_encoding():
    assert detect_encoding("退货流程：在订单页申请售后。".encode("gbk")) == "gb18030"
    assert detect_encoding(b"plain ascii") == "utf-8"
    assert detect_encoding(codecs.BOM_UTF16_LE + "hi".encode("utf-16-le")) == "utf-16"


def test_datasets_folder(tmp_path):
    from datasets import Dataset, DatasetDict

    DatasetDict({"train": Dataset.from_list(RECORDS[:2]), "test": Dataset.from_list(RECORDS[:1])}).save_to_disk(tmp_path / "ds")
    assert [r["instruction"] for r in read_records(tmp_path / "ds")] == ["解释LoRA。", "Say hi"]
    assert [r["instruction"] for r in read_records(tmp_path / "ds", split="test")] == ["解释LoRA。"]
    with pytest.raises(InputError, match="no split 'dev'"):
        list(read_records(tmp_path / "ds", split="dev"))
