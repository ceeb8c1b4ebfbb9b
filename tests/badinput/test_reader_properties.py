"""Property tests for the JSON, JSON Lines and CSV readers: whatever the bytes, no exception other
than InputError/ConfigError escapes, every row is a record or a bad row with a line number inside
the file, and what datacraft writes it reads back unchanged."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datacraft.errors import ConfigError, InputError
from datacraft.io import iter_rows, write_records

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON values as Python's json module writes them: finite floats, any text (lone surrogates too).
scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                                           inner, max_size=4),
                      max_leaves=20)
records = st.dictionaries(st.text(min_size=1, max_size=10), values, min_size=1, max_size=5)


def _read(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        rows = list(iter_rows(path))
    except (InputError, ConfigError) as exc:
        assert str(exc).startswith(str(path)) or "encoding" in str(exc)
        return None
    lines = len(data.splitlines()) + 1  # \r alone ends a line too, in CSV
    for row in rows:
        assert 1 <= row.line <= lines
        assert (row.error is None) == (row.reason is None)  # a bad row always says why
    return rows


@SETTINGS
@given(data=st.binary(max_size=400))
def test_any_bytes_as_json_lines_or_json_or_csv(tmp_path, data):
    for name in ("x.jsonl", "x.json", "x.csv"):
        _read(tmp_path, name, data)


@SETTINGS
@given(items=st.lists(values, max_size=6), indent=st.sampled_from([None, 0, 2]), cut=st.integers(0, 400))
def test_json_arrays_cut_anywhere(tmp_path, items, indent, cut):
    text = json.dumps(items, indent=indent, ensure_ascii=False).encode("utf-8", "surrogatepass")
    _read(tmp_path, "cut.json", text[:cut])
    rows = _read(tmp_path, "whole.json", text)
    assert rows is not None or not items
    if rows is not None:
        assert len(rows) == len(items)  # every element is a row: a record or a bad row, never dropped


@SETTINGS
@given(batches=st.lists(st.lists(records, min_size=1, max_size=3), min_size=1, max_size=3),
       tail=st.lists(records, max_size=3))
def test_concatenated_arrays_and_trailing_lines_lose_nothing(tmp_path, batches, tail):
    text = "".join(json.dumps(b, indent=1) + "\n" for b in batches) + "".join(json.dumps(r) + "\n" for r in tail)
    rows = _read(tmp_path, "cat.json", text.encode("utf-8", "surrogatepass"))
    assert rows is not None and len(rows) == sum(map(len, batches)) + len(tail)


@SETTINGS
@given(items=st.lists(records, min_size=1, max_size=8), fmt=st.sampled_from(["jsonl", "json"]))
def test_what_is_written_is_read_back_or_rejected_with_a_reason(tmp_path, items, fmt):
    source = tmp_path / f"src.{fmt}"
    # Written with the stdlib (as other tools write), so NaN, huge ints and lone surrogates occur.
    if fmt == "jsonl":
        source.write_bytes("".join(json.dumps(r) + "\n" for r in items).encode())
    else:
        source.write_bytes(json.dumps(items).encode())
    rows = list(iter_rows(source))
    assert len(rows) == len(items)
    good = [r.value for r in rows if r.error is None]
    for row, item in zip(rows, items, strict=True):
        if row.error is None:
            assert row.value == item or json.dumps(row.value, sort_keys=True) == json.dumps(item, sort_keys=True)
        else:
            assert row.reason in ("non_finite_number", "number_out_of_range", "invalid_json", "too_deep")
    # What was accepted survives datacraft's own writer and reader unchanged.
    target = tmp_path / f"out.{fmt}"
    write_records(target, good)
    assert [r.value for r in iter_rows(target)] == good


@SETTINGS
@given(table=st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
                               min_size=2, max_size=2), min_size=1, max_size=8))
def test_csv_round_trip_and_line_numbers(tmp_path, table):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["instruction", "output"])
    writer.writerows(table)
    path = tmp_path / "t.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    rows = list(iter_rows(path))
    assert [r.value for r in rows if r.error is None] == [dict(zip(["instruction", "output"], r, strict=True)) for r in table]
    assert [r.line for r in rows] == sorted(r.line for r in rows)
