"""clean_file end to end: exact expected output, counts, rejects, invariants, atomic output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from datacraft.clean import CleanConfig, clean_file, quality_check
from datacraft.errors import ConfigError, InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MIXED = FIXTURES / "clean_mixed.jsonl"
NO_DEDUPE = CleanConfig(dedupe=None)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _assert_balanced(result: dict, rejects: Path | None = None) -> None:
    assert result["kept"] + result["rejected"] == result["read"]
    assert sum(stage["rejected"] for stage in result["stages"].values()) == result["rejected"]
    if rejects is not None:
        assert len(_lines(rejects)) == result["rejected"]


def test_mixed_fixture_gives_the_expected_output(tmp_path: Path) -> None:
    shutil.copy(MIXED, tmp_path / "clean_mixed.jsonl")  # ids use the file stem, so keep the name
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = clean_file([str(tmp_path / "clean_mixed.jsonl")], str(out), rejects=str(rej), config=NO_DEDUPE)
    assert out.read_text(encoding="utf-8") == (FIXTURES / "clean_mixed.expected.jsonl").read_text(encoding="utf-8")
    assert (result["read"], result["kept"], result["rejected"]) == (22, 11, 11)
    assert list(result["stages"]) == ["read", "normalize", "filter"]
    assert result["reasons"] == {
        "filter/refusal": 2, "read/invalid_json": 1, "read/not_an_object": 1, "filter/empty_field": 1,
        "filter/missing_field": 1, "filter/bad_type": 1, "filter/repetitive_output": 1,
        "filter/output_repeats_instruction": 1, "filter/too_many_symbols": 1, "filter/output_too_short": 1}
    assert result["normalized"] == {"whitespace": 4, "mojibake": 2, "prefix": 2, "html": 1, "fullwidth": 1,
                                    "quotes": 1}
    _assert_balanced(result, rej)


def test_rejects_carry_stage_reason_detail_and_where(tmp_path: Path) -> None:
    rej = tmp_path / "rej.jsonl"
    clean_file([str(MIXED)], str(tmp_path / "out.jsonl"), rejects=str(rej), config=NO_DEDUPE)
    rejects = _lines(rej)
    by_reason = {r["reason"]: r for r in rejects}
    bad_json = by_reason["invalid_json"]
    assert (bad_json["stage"], bad_json["source"], bad_json["raw"]) == ("read", f"{MIXED}:15", '{"instruction": "broken",')
    assert by_reason["not_an_object"]["source"] == f"{MIXED}:17"
    refusal = [r for r in rejects if r["reason"] == "refusal"]
    assert [r["detail"] for r in refusal] == ["As an AI language model, I", "抱歉，我无法"]
    assert by_reason["bad_type"]["detail"] == "output: expected a string, got int"
    assert by_reason["bad_type"]["record"]["output"] == 123
    for r in rejects:
        assert r["stage"] in ("read", "filter") and r["detail"]
        assert ("record" in r) != ("raw" in r)


def test_filters_never_add_and_keep_order(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    clean_file([str(MIXED), str(MIXED)], str(out), config=NO_DEDUPE)
    kept = [r["id"] for r in _lines(out)]
    read = [json.loads(line).get("id", f"clean_mixed:{n}")
            for _ in range(2) for n, line in enumerate(MIXED.read_text(encoding="utf-8").splitlines(), 1)
            if line.startswith("{") and line.endswith("}")]
    assert len(kept) < len(read)
    positions = [read.index(i) for i in kept[: len(kept) // 2]]
    assert positions == sorted(positions)
    assert set(kept) <= set(read)


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_an_empty_input_is_an_error_not_an_empty_success(tmp_path: Path, content: str) -> None:
    # Was read 0, kept 0 and a zero exit: a batch job that read nothing must fail, saying why.
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=r"in\.jsonl: no records: the input is empty"):
        clean_file([str(src)], str(out), config=NO_DEDUPE)
    assert not out.exists()


@pytest.mark.parametrize("content, read, rejected", [
    ('not json\n{"a": \n42\n"str"\n', 4, 4),
    ('{"instruction": "hi", "output": "Hello there!"}\n{bad\n', 2, 1),
])
def test_balance_with_empty_and_bad_inputs(tmp_path: Path, content: str, read: int, rejected: int) -> None:
    src, out, rej = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    src.write_text(content, encoding="utf-8")
    result = clean_file([str(src)], str(out), rejects=str(rej), config=NO_DEDUPE)
    assert (result["read"], result["rejected"]) == (read, rejected)
    assert out.exists() and len(_lines(out)) == result["kept"]
    _assert_balanced(result, rej)


def test_strict_stops_at_the_first_bad_line_and_leaves_no_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous run\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"clean_mixed\.jsonl:15: invalid JSON"):
        clean_file([str(MIXED)], str(out), rejects=str(tmp_path / "rej.jsonl"), config=NO_DEDUPE, strict=True)
    assert out.read_text(encoding="utf-8") == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temp or half-written files


def test_output_must_not_be_an_input(tmp_path: Path) -> None:
    src = tmp_path / "data.jsonl"
    shutil.copy(MIXED, src)
    with pytest.raises(ConfigError, match="is also an input"):
        clean_file([str(src)], str(src), config=NO_DEDUPE)
    with pytest.raises(ConfigError, match="is also an input"):
        clean_file([str(src)], str(tmp_path / "out.jsonl"), rejects=str(src), config=NO_DEDUPE)
    with pytest.raises(ConfigError, match="same file as the output"):
        clean_file([str(src)], str(tmp_path / "out.jsonl"), rejects=str(tmp_path / "out.jsonl"), config=NO_DEDUPE)
    assert src.read_bytes() == MIXED.read_bytes()


def test_against_needs_dedupe(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--against"):
        clean_file([str(MIXED)], str(tmp_path / "o.jsonl"), against=[str(MIXED)], config=NO_DEDUPE)


def test_dedupe_stages_follow_the_filters(tmp_path: Path) -> None:
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = clean_file([str(MIXED)], str(out), rejects=str(rej))
    assert list(result["stages"]) == ["read", "normalize", "filter", "exact_dedupe", "near_dedupe"]
    assert result["stages"]["exact_dedupe"]["reasons"] == {"exact_duplicate": 1}
    assert result["kept"] == 10
    dup = [r for r in _lines(rej) if r["reason"] == "exact_duplicate"]
    assert [(d["stage"], d["record"]["id"], d["dup_of"]) for d in dup] == [
        ("exact_dedupe", "clean_mixed:22", "clean_mixed:2")]
    _assert_balanced(result, rej)


def test_against_drops_copies_of_the_reference(tmp_path: Path) -> None:
    ref = tmp_path / "eval.jsonl"
    ref.write_text(json.dumps({"instruction": "解释什么是机器学习。", "input": "",
                               "output": "机器学习是人工智能的一个分支，它让计算机从数据中学习规律，而不是依靠人工编写的规则。"},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    rej = tmp_path / "rej.jsonl"
    result = clean_file([str(MIXED)], str(tmp_path / "out.jsonl"), rejects=str(rej), against=[str(ref)])
    copies = [r for r in _lines(rej) if r["reason"] == "copies_reference"]
    assert [c["record"]["id"] for c in copies] == ["clean_mixed:1"]
    assert result["read"] == 22  # reference records are not counted as input
    _assert_balanced(result, rej)


def test_quality_check_normalises_then_filters() -> None:
    check = quality_check()
    assert check({"instruction": "Name a color.", "input": "", "output": "Answer: Red"}) == (True, "", "")
    assert check({"instruction": "Name a color.", "input": "", "output": "<p> </p>"})[:2] == (False, "empty_field")
    assert check({"instruction": "x", "output": "哈" * 30})[1] == "repetitive_output"
    strict = quality_check(CleanConfig(filters={"min_output_length": 3}))
    record = {"instruction": "Name a color.", "input": "", "output": "  Red  "}
    assert strict(record) == (False, "output_too_short", "output: 1 units < 3")
    assert record["output"] == "  Red  "  # the caller's record is untouched


def test_cleaning_twice_changes_nothing(tmp_path: Path) -> None:
    once, twice = tmp_path / "once.jsonl", tmp_path / "twice.jsonl"
    clean_file([str(MIXED)], str(once))
    result = clean_file([str(once)], str(twice))
    assert result["rejected"] == 0 and result["normalized"] == {}
    assert twice.read_bytes() == once.read_bytes()
