import gzip
import logging

import pytest

from datacraft.errors import ConfigError, InputError
from datacraft.io import iter_records, iter_rows


def rows(path):
    return [(r.line, r.sub, r.value, r.reason) for r in iter_rows(path)]


def test_concatenated_arrays_are_all_read(tmp_path):
    path = tmp_path / "cat.json"
    path.write_text('[{"a": 1}]\n[{"a": 2},\n {"a": 3}]\n', encoding="utf-8")
    assert rows(path) == [(1, 0, {"a": 1}, None), (2, 0, {"a": 2}, None), (3, 0, {"a": 3}, None)]


def test_array_followed_by_json_lines(tmp_path):
    path = tmp_path / "mix.json"
    path.write_text('[\n  {"a": 1}\n]\n{"a": 2}\n{"a": 3}\n', encoding="utf-8")
    assert [r[2] for r in rows(path)] == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_trailing_garbage_is_a_bad_row_with_its_line(tmp_path):
    path = tmp_path / "tail.json"
    path.write_text('[{"a": 1}]\nthis is not json\nnor this\n', encoding="utf-8")
    bad = []
    assert [r.value for r in iter_records(path, on_bad=bad.append)] == [{"a": 1}]
    assert [(b.line, b.reason) for b in bad] == [(2, "invalid_json")]
    assert "nor this" in bad[0].raw
    with pytest.raises(InputError, match=r"tail.json:2: not JSON"):
        list(iter_records(path, strict=True))


def test_a_file_that_does_not_start_like_json_is_an_input_error(tmp_path):
    path = tmp_path / "text.json"
    path.write_text("\n\nhello\n[1]", encoding="utf-8")
    with pytest.raises(InputError, match=r"text.json:3: not JSON"):
        list(iter_rows(path))


def test_minified_array_numbers_records_on_one_line(tmp_path):
    path = tmp_path / "min.json"
    path.write_text('[{"a": 1},{"a": 2},{"a": "},]"}]', encoding="utf-8")
    assert rows(path) == [(1, 0, {"a": 1}, None), (1, 1, {"a": 2}, None), (1, 2, {"a": "},]"}, None)]


def test_object_text_that_looks_like_an_end_is_not_cut(tmp_path):
    path = tmp_path / "tricky.json"
    tricky = '{"a": "x}, {", "b": {"c": [1, {"d": "}]"}]}}'
    path.write_text(f"[{tricky},\n{tricky}]", encoding="utf-8")
    assert [r[2]["b"]["c"][1]["d"] for r in rows(path)] == ["}]", "}]"]


def test_unterminated_array_is_a_bad_row(tmp_path):
    path = tmp_path / "open.json"
    path.write_text('[\n{"a": 1},\n{"a": 2', encoding="utf-8")
    got = rows(path)
    assert got[0] == (2, 0, {"a": 1}, None)
    assert got[1][0] == 3 and got[1][3] == "invalid_json"


def test_wrapper_object_gives_the_records_it_wraps(tmp_path):
    path = tmp_path / "wrapped.json"
    path.write_text('{"version": 1,\n "data": [\n  {"a": 1},\n  {"a": 2}\n ]\n}\n', encoding="utf-8")
    assert rows(path) == [(3, 0, {"a": 1}, None), (4, 0, {"a": 2}, None)]


def test_a_single_record_with_a_list_is_not_a_wrapper(tmp_path):
    path = tmp_path / "one.json"
    path.write_text('{"conversations": [{"from": "human", "value": "hi"}]}', encoding="utf-8")
    assert len(rows(path)) == 1


@pytest.mark.parametrize("text, reason", [
    ('[{"a": NaN}]', "non_finite_number"),
    ('[{"a": -Infinity}]', "non_finite_number"),
    ('[{"a": 123456789012345678901234567890}]', "number_out_of_range"),
    ('[{"a": "\\ud800"}]', "invalid_json"),
    ("[" + '{"a":' * 2000 + "1" + "}" * 2000 + "]", "too_deep"),
    ("[" + '{"a":' * 300 + "1" + "}" * 300 + "]", "too_deep"),  # orjson reads it but cannot write it
])
def test_values_json_allows_but_cannot_round_trip_are_rejected(tmp_path, text, reason):
    for name in ("v.json", "v.jsonl"):
        path = tmp_path / name
        path.write_text(text if name.endswith(".json") else text[1:-1] + "\n", encoding="utf-8")
        bad = []
        assert list(iter_records(path, on_bad=bad.append)) == []
        assert [(b.line, b.reason) for b in bad] == [(1, reason)], name


def test_duplicate_keys_warn_and_keep_the_last_value(tmp_path, caplog):
    path = tmp_path / "dup.json"
    path.write_text('[\n{"a": 1, "a": 2}\n]', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="datacraft.io"):
        assert [r.value for r in iter_records(path)] == [{"a": 2}]
    assert "dup.json:2: duplicate key 'a'" in caplog.text


@pytest.mark.parametrize("name", ["d.jsonl.gz", "d.json.gz"])
def test_gzip_inputs(tmp_path, name):
    path = tmp_path / name
    body = '{"a": 1}\n{"a": 2}\n' if ".jsonl" in name else '[{"a": 1},\n{"a": 2}]'
    path.write_bytes(gzip.compress(body.encode()))
    assert [(r.line, r.value) for r in iter_rows(path)] == [(1, {"a": 1}), (2, {"a": 2})]


def test_broken_gzip_is_an_input_error(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="d.jsonl.gz: not a readable gzip file"):
        list(iter_rows(path))


def test_gbk_json_array_keeps_line_numbers(tmp_path):
    path = tmp_path / "gbk.json"
    path.write_bytes('[\n{"问题": "怎么退货？"},\n{"问题": "发票怎么开"}\n]'.encode("gbk"))
    assert [(r.line, r.value) for r in iter_rows(path)] == [(2, {"问题": "怎么退货？"}), (3, {"问题": "发票怎么开"})]


@pytest.mark.parametrize("name", ["x.jsonl", "x.json", "x.csv"])
def test_unknown_encoding_is_a_config_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown --encoding 'nope'"):
        list(iter_rows(path, encoding="nope"))


def test_map_to_a_missing_column_lists_the_columns(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nq,a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"faq.csv: --map output=answr: no such column; the columns are: question, answer"):
        list(iter_records(path, mapping={"instruction": "question", "output": "answr"}))
    jsonl = tmp_path / "faq.jsonl"
    jsonl.write_text('{"q": 1}\n{"q": 2, "extra": 3}\n', encoding="utf-8")
    assert len(list(iter_records(jsonl, mapping={"instruction": "q", "input": "extra"}))) == 2
    with pytest.raises(ConfigError, match="--map output=a: no such column"):
        list(iter_records(jsonl, mapping={"instruction": "q", "output": "a"}))


def test_excel_reads_every_sheet_and_fills_merged_cells(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "one"
    first.append(["question", "answer"])
    first.append(["q1", "shared"])
    first.append(["q2", None])
    first.merge_cells("B2:B3")
    second = book.create_sheet("two")
    second.append(["question", "answer"])
    second.append(["q3", 3])
    path = tmp_path / "book.xlsx"
    book.save(path)
    got = [(r.path.rsplit("/", 1)[-1], r.line, r.value) for r in iter_rows(path)]
    assert got == [
        ("book.xlsx[one]", 2, {"question": "q1", "answer": "shared", "meta": {"sheet": "one"}}),
        ("book.xlsx[one]", 3, {"question": "q2", "answer": "shared", "meta": {"sheet": "one"}}),
        ("book.xlsx[two]", 2, {"question": "q3", "answer": "3", "meta": {"sheet": "two"}}),
    ]


def test_warnings_are_capped_per_file(tmp_path, caplog):
    path = tmp_path / "dups.jsonl"
    path.write_text('{"a": 1, "a": 2}\n' * 12, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="datacraft.io"):
        assert len(list(iter_records(path))) == 12
    assert caplog.text.count("duplicate key 'a'") == 5
    assert "dups.jsonl: 7 more rows with the same kind of warning" in caplog.text


def test_objects_nested_at_the_elements_indent_keep_their_lines(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text('[\n  {"a":\n  {"b": 1}},\n  {"a": 2}, {"a": 3},\n  {"a": 4}\n]', encoding="utf-8")
    assert [(r.line, r.sub, r.value) for r in iter_rows(path)] == [
        (2, 0, {"a": {"b": 1}}), (4, 0, {"a": 2}), (4, 1, {"a": 3}), (5, 0, {"a": 4})]


def test_a_long_pretty_printed_array_keeps_every_line(tmp_path):
    import json as stdjson

    items = [{"i": i, "text": "x\\n" * (i % 3), "nested": [{"k": i}] if i % 5 == 0 else []} for i in range(5000)]
    path = tmp_path / "long.json"
    path.write_text(stdjson.dumps(items, indent=2), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    got = list(iter_rows(path))
    assert [r.value for r in got] == items
    assert all(lines[r.line - 1] == "  {" for r in got)


def test_mostly_minified_arrays_with_a_line_break_still_number_records_on_one_line(tmp_path):
    path = tmp_path / "mixed_min.json"
    elements = ['{"a": 1}', '{"b":\n2}', '{"c": 3}', '{"d": 4}']
    path.write_text("[" + ",".join(elements * 3) + "]", encoding="utf-8")
    got = [(r.line, r.sub) for r in iter_rows(path)]
    assert len(got) == 12 and len(set(got)) == 12
    many = tmp_path / "many.json"  # blocks of 2,048 elements: the numbering carries across them
    many.write_text("[" + ",".join(elements * 2000) + "]", encoding="utf-8")
    got = [(r.line, r.sub) for r in iter_rows(many)]
    assert len(got) == 8000 and len(set(got)) == 8000
    flat = tmp_path / "flat.json"
    flat.write_text("[" + ",".join(['{"a": 1}'] * 5000) + "]", encoding="utf-8")
    assert [(r.line, r.sub) for r in iter_rows(flat)] == [(1, i) for i in range(5000)]
    assert got[:4] == [(1, 0), (1, 1), (2, 0), (2, 1)]


def test_small_floats_skip_the_big_integer_check_and_big_integers_are_still_caught():
    """orjson reads an integer past 64 bits as a float of magnitude >= 2^63; other floats need no digit scan."""
    from datacraft.io import jsonvalues

    calls = []
    real = jsonvalues._has_big_int
    jsonvalues._has_big_int = lambda chunk: calls.append(chunk) or real(chunk)
    try:
        line = b'{"output": "id 123456789012345678901 ok", "meta": {"dedupe": {"threshold": 0.7}}}'
        assert jsonvalues.decode(line, 1) == {"value": {"output": "id 123456789012345678901 ok",
                                                         "meta": {"dedupe": {"threshold": 0.7}}}}
        assert calls == []  # before: 0.7 sent every such line through the regex and the stdlib parse
        for big in (b"18446744073709551616", b"-92233720368547758090", b"123456789012345678901234567"):
            row = jsonvalues.decode(b'{"a": 0.5, "n": ' + big + b"}", 1)
            assert row["reason"] == "number_out_of_range"
        assert jsonvalues.decode(b'{"a": 0.5, "n": 18446744073709551615, "m": -9223372036854775808}', 1)["value"]
        assert jsonvalues.decode(b'{"x": 1.5e300}', 1) == {"value": {"x": 1.5e300}}  # a real big float
    finally:
        jsonvalues._has_big_int = real
