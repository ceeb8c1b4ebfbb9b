"""validate's msgspec fast path: a file it accepts gets exactly the full path's report; anything else goes there."""

from __future__ import annotations

import logging

import orjson
import pytest

from datacraft.validate import fast, validate_files

pytestmark = pytest.mark.skipif(not fast.supported("alpaca"), reason="msgspec is not installed")

GOOD = [
    {"instruction": "Translate", "input": "你好", "output": "Hello"},
    {"instruction": "Hi", "output": "Hello there", "input": None, "system": "Be brief", "tools": None},
    {"instruction": "Go on", "output": "Done", "history": [["a", "b"], ["c", "d"]], "id": "src:1",
     "meta": {"source": "x", "line": 3, "ok": True, "none": None}},
]


def write(tmp_path, lines: list[bytes], name: str = "data.jsonl") -> str:
    path = tmp_path / name
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return str(path)


def full(path: str, schema: str = "alpaca", **options):
    saved = fast.usable
    fast.usable = lambda *a: False  # force the full path
    try:
        return validate_files([path], schema=schema, **options)
    finally:
        fast.usable = saved


def same(path: str, schema: str = "alpaca") -> tuple[int, int]:
    quick, slow = validate_files([path], schema=schema), full(path, schema)
    assert (quick.records, quick.invalid, [str(e) for e in quick.errors]) == \
        (slow.records, slow.invalid, [str(e) for e in slow.errors])
    return quick.records, quick.invalid


def test_valid_file_takes_the_fast_path(tmp_path):
    path = write(tmp_path, [orjson.dumps(r) for r in GOOD * 50])
    assert fast.count_valid(path, "alpaca") == 150
    assert same(path) == (150, 0)
    assert same(path, "auto") == (150, 0)


def test_block_boundaries_and_long_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(fast, "_BLOCK", 64)  # lines longer than a block, split at every offset
    long = {"instruction": "x" * 500, "output": "y" * 300}
    path = write(tmp_path, [orjson.dumps(r) for r in [*GOOD, long] * 7])
    assert fast.count_valid(path, "alpaca") == 28
    no_newline = tmp_path / "last.jsonl"
    no_newline.write_bytes(orjson.dumps(GOOD[0]) + b"\n" + orjson.dumps(GOOD[1]))
    assert fast.count_valid(str(no_newline), "alpaca") == 2


@pytest.mark.parametrize("line", [
    b'{"instruction": "a", "output": "\\u3000 "}',            # whitespace only (a Unicode space)
    b'{"instruction": "a", "output": ""}',
    b'{"instruction": "a", "output": 3}',
    b'{"instruction": "a"}',
    b'{"instruction": "a", "output": "b", "extra": 1}',         # valid, but not the fast path's shape
    b'{"instruction": "a", "output": "b", "output": "c"}',      # duplicate key: the reader warns
    b'{"instruction": "a", "output": "b", "meta": {"n": 123456789012345678901234567890}}',
    b'{"instruction": "a", "output": "b", "meta": {"deep": {"x": 1}}}',
    b'{"instruction": "a", "output": "b", "id": ""}',
    b'{"instruction": "a", "output": "b", "history": [["only one"]]}',
    b'{"instruction": "a", "output": "\\ud800"}',                # lone surrogate
    b'{"instruction": "a", "output": "\xff"}',                   # not UTF-8
    b'{"instruction": "a", "output": NaN}',
    b"[1, 2]",
    b"not json",
])
def test_anything_else_gets_the_full_paths_report(tmp_path, line, caplog):
    path = write(tmp_path, [orjson.dumps(GOOD[0]), line, orjson.dumps(GOOD[2])])
    assert fast.count_valid(path, "alpaca") is None
    with caplog.at_level(logging.WARNING, logger="datacraft.io"):
        same(path)


def test_blank_lines_are_skipped_as_the_reader_does(tmp_path):
    path = write(tmp_path, [orjson.dumps(GOOD[0]), b"", b"   ", orjson.dumps(GOOD[1])])
    assert fast.count_valid(path, "alpaca") == 2
    assert same(path) == (2, 0)


def test_duplicate_key_warning_is_kept(tmp_path, caplog):
    path = write(tmp_path, [b'{"instruction": "a", "output": "b", "output": "c"}'])
    with caplog.at_level(logging.WARNING, logger="datacraft.io"):
        report = validate_files([path], schema="alpaca")
    assert report.invalid == 0 and "duplicate key 'output'" in caplog.text


def test_colons_in_text_are_not_duplicates(tmp_path):
    path = write(tmp_path, [orjson.dumps({"instruction": "Note: say a", "output": "x:y", "id": "s:1"})])
    assert fast.count_valid(path, "alpaca") == 1
    assert same(path) == (1, 0)
    quoted = write(tmp_path, [orjson.dumps({"instruction": 'say "a": b', "output": "x"})], "quoted.jsonl")
    assert fast.count_valid(quoted, "alpaca") == 1  # `\\":` looks like a key, but the colon is in the text
    assert same(quoted) == (1, 0)
    everywhere = {"instruction": "a:b", "input": "c:d", "output": "e: f", "history": [["g:", ":h"]], "id": "s:1",
                  "meta": {"k:ey": "v:al", "n": 1}}
    path = write(tmp_path, [orjson.dumps(everywhere)] * 3, "everywhere.jsonl")
    assert fast.count_valid(path, "alpaca") == 3
    assert same(path) == (3, 0)


@pytest.mark.parametrize("lines", [
    [b'{"instruction": "a:b", "output": "c", "output": "d"}'],          # a duplicate beside a colon in text
    [b'{"instruction": "a", "output": "b", "meta": {"k": "x:y", "k": "z"}}'],
    # one `":` too many on a line, one too few on the next (a tab before the colon): the totals agree
    [b'{"instruction":"a","output":"b","output":"c"}', b'{"instruction"\t:"x","output":"y"}'],
    [b'{"instruction": "\\u003a", "output": "\\u003A", "output": "c"}'],  # colons the text does not show
])
def test_duplicate_keys_are_found_whatever_the_colons(tmp_path, lines, caplog):
    path = write(tmp_path, [orjson.dumps({"instruction": "x", "output": "y", "input": "z"}), *lines])
    assert fast.count_valid(path, "alpaca") is None
    with caplog.at_level(logging.WARNING, logger="datacraft.io"):
        report = same(path)
    assert report == (len(lines) + 1, 0) and "duplicate key" in caplog.text


def test_a_spaced_duplicate_goes_to_the_full_path(tmp_path):
    # The reader looks for duplicates only where a line has more `":` than keys, so it does not warn
    # here; the fast path must not decide either way.
    path = write(tmp_path, [b'{"instruction": "a", "output": "b", "output" :"c"}'])
    assert fast.count_valid(path, "alpaca") is None
    assert same(path) == (1, 0)


def test_bom_empty_and_other_files_use_the_full_path(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(GOOD[0]) + b"\n")
    assert fast.count_valid(str(bom), "alpaca") is None
    assert same(str(bom)) == (1, 0)
    empty = write(tmp_path, [], "empty.jsonl")
    assert same(empty) == (0, 0) or validate_files([empty], schema="alpaca").total_errors == 1
    assert not fast.usable(str(tmp_path / "x.json"), {})
    assert not fast.usable(str(bom), {"mapping": {"instruction": "q"}})
    assert not fast.usable("-", {})


# Lines of every kind the fast check clears or does not, for files mixing them.
_MIXED = [orjson.dumps(r) for r in GOOD] + [
    b'{"instruction": "a", "output": 3}', b'{"instruction": "a"}', b"not json", b"[1, 2]", b"", b"   ",
    b'{"instruction": "a", "output": "b", "output": "c"}', b'{"instruction": " ", "output": "b"}',
    b'{"instruction": "a", "output": "b", "extra": 1}', b'{"instruction": "a", "output": "b", "meta": {"d": {"x": 1}}}',
    b'{"instruction": "a:b", "output": "c", "id": "s:1"}', b'{"instruction": "a", "output": "\xff"}',
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("schema", ["alpaca", "auto"])
def test_a_mixed_file_gets_the_full_paths_report(tmp_path, monkeypatch, caplog, seed, schema):
    import random

    rng = random.Random(seed)
    monkeypatch.setattr(fast, "_BLOCK", rng.choice([64, 256, 4096]))  # many blocks, some clear, some not
    lines = [rng.choice(_MIXED) for _ in range(rng.randint(1, 120))]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if seed % 2 else b""))  # odd seeds: a last line without newline
    with caplog.at_level(logging.WARNING, logger="datacraft.io"):
        quick = validate_files([str(path)], schema=schema, max_errors=1000)
        said = caplog.text
        caplog.clear()
        slow = full(str(path), schema, max_errors=1000)
        assert said == caplog.text  # the duplicate-key warnings, at most five, then the count of the rest
    assert quick.to_dict() == slow.to_dict()  # counts per kind and field, per file, every error


def test_strict_stops_at_the_same_line(tmp_path):
    from datacraft.errors import InputError

    path = write(tmp_path, [orjson.dumps(GOOD[0])] * 500 + [b"not json"] + [orjson.dumps(GOOD[1])])
    with pytest.raises(InputError) as quick:
        validate_files([path], schema="alpaca", strict=True)
    with pytest.raises(InputError) as slow:
        saved, fast.usable = fast.usable, lambda *a: False
        try:
            validate_files([path], schema="alpaca", strict=True)
        finally:
            fast.usable = saved
    assert str(quick.value) == str(slow.value) and ":501" in str(quick.value)


@pytest.mark.parametrize("piece", [1, 8])
def test_only_the_lines_it_cannot_clear_reach_the_reader(tmp_path, monkeypatch, piece):
    monkeypatch.setattr(fast, "_BLOCK", 256)
    monkeypatch.setattr(fast, "_PIECE", piece)
    lines = [orjson.dumps(GOOD[i % 3]) for i in range(60)]
    lines[7], lines[41] = b'{"instruction": "a"}', b"not json"
    path = write(tmp_path, lines)
    cleared = []
    unclear = list(fast.unclear_lines(path, "alpaca", cleared.append))
    assert all(text == lines[number - 1] + b"\n" for number, text in unclear)
    assert {8, 42} <= {number for number, _ in unclear} and sum(cleared) + len(unclear) == 60
    assert len(unclear) == 2 if piece == 1 else 2 < len(unclear) <= 2 * piece
