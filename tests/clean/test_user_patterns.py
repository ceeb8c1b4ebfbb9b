"""User-supplied blacklist regexes: matches drop the record, runaway patterns time out per record."""

from __future__ import annotations

import orjson
import pytest

from datacraft.clean import CleanConfig, clean_file, record_filter
from datacraft.clean.config import FilterConfig
from datacraft.config import validate_section
from datacraft.errors import ConfigError


def _rec(output: str) -> dict:
    return {"instruction": "Explain something.", "input": "", "output": output}


def test_a_matching_pattern_drops_the_record() -> None:
    keep = record_filter(FilterConfig(blacklist_patterns=[r"\bwww\.\w+\.com\b"]))
    assert keep(_rec("See www.example.com for more.")) == (
        False, "blacklisted_pattern", "'\\\\bwww\\\\.\\\\w+\\\\.com\\\\b' matched 'www.example.com'")
    assert keep(_rec("A fine answer.")) == (True, "", "")


def test_a_runaway_pattern_rejects_with_pattern_timeout(tmp_path) -> None:
    # (a|aa)+$ backtracks exponentially on a run of a's followed by anything else.
    # The repetition checks are off so that the run of a's reaches the pattern.
    filters = FilterConfig(blacklist_patterns=[r"(a|aa)+$"], pattern_timeout=0.05,
                           max_char_run=None, max_ngram_repetition=None)
    config = CleanConfig(dedupe=None, filters=filters)
    source, out, rejects = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    records = [_rec("A fine answer."), _rec("a" * 60 + "!"), _rec("Another answer.")]
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    result = clean_file([str(source)], str(out), rejects=str(rejects), config=config)
    assert (result["read"], result["kept"], result["rejected"]) == (3, 2, 1)
    reject = orjson.loads(rejects.read_bytes())
    assert (reject["stage"], reject["reason"]) == ("filter", "pattern_timeout")
    assert "ran past 0.05 s" in reject["detail"]


def test_a_broken_pattern_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="does not compile"):
        validate_section(CleanConfig, {"filters": {"blacklist_patterns": ["(unclosed"]}}, "clean.yaml")
    with pytest.raises(ConfigError, match="pattern_timeout must be > 0"):
        validate_section(CleanConfig, {"filters": {"pattern_timeout": 0}}, "clean.yaml")
