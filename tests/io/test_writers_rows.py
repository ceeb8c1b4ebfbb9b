"""RowWriter: rows already serialised, framed exactly as write_records and JsonlWriter frame records."""

from pathlib import Path

import pytest

from datacraft.io.writers import RowWriter, dumps_json, dumps_line, write_records

RECORDS = [{"a": "中", "n": 1}, {"b": [1, 2], "c": None}, {}]


@pytest.mark.parametrize("records", [RECORDS, RECORDS[:1], []], ids=["three", "one", "none"])
def test_a_json_array_is_write_records_byte_for_byte(tmp_path: Path, records: list) -> None:
    write_records(tmp_path / "ref.json", records, fmt="json")
    with RowWriter(tmp_path / "rows.json", "json") as writer:
        for record in records:
            writer.write(dumps_json(record))
    assert writer.count == len(records)
    assert (tmp_path / "rows.json").read_bytes() == (tmp_path / "ref.json").read_bytes()


def test_json_lines_are_dumps_line_joined(tmp_path: Path) -> None:
    with RowWriter(tmp_path / "rows.jsonl") as writer:
        for record in RECORDS:
            writer.write(dumps_json(record))
    assert (tmp_path / "rows.jsonl").read_bytes() == b"".join(map(dumps_line, RECORDS))


def test_an_error_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), RowWriter(tmp_path / "rows.json", "json") as writer:
        writer.write(dumps_json({"a": 1}))
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_other_file_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="jsonl or json"):
        RowWriter("x.csv", "csv")
