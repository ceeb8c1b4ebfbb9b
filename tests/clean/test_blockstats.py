"""Block counts (numpy) decide exactly as the per-text functions: each claim checked on random texts.

`TextStats` claims exact counts (letters and digits, non-space characters, collapsed length,
squashed length) and sound bounds (a text it clears of runs or repeats is one the exact test
clears); the block stages must give the same records, verdicts, details and rejects order as the
per-record stages, at any block size.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacraft.clean import CleanConfig, Normalizer, blockstats, kernel, record_filter
from datacraft.clean import normalize as N
from datacraft.clean.blockstats import (
    SPACE,
    UNSAFE_FOLD,
    WORD,
    TextStats,
    char_table,
    classes_present,
)
from datacraft.clean.checks import load_block
from datacraft.clean.config import FilterConfig
from datacraft.clean.filters import (
    _REFUSAL_HINT,
    _char_run,
    _few_symbols,
    _squash,
    ngram_repetition,
    prose,
)
from datacraft.clean.pipeline import block_filter_stage, block_normalize_stage
from datacraft.stages import Ledger, RejectSink, filter_stage, map_stage

# Letters that fold oddly (ß, ſ, İ, ﬁ), every kind of whitespace, CJK, full-width, combining marks.
ALPHABET = st.sampled_from(list("aab AB1 \t\n\r\x0b\x1c\x85\u00a0\u2028\u3000。，中文かﾟ\u3099ÃéßſİﬁＡ！★#|-*_`$\\"
                                "\u200b\ufeff\x00哈哈哈哈"))
TEXTS = st.text(ALPHABET, max_size=80)
# Texts built from repeated pieces, so repeats, runs and echoes actually occur.
LOOPS = st.builds(lambda piece, k, tail: piece * k + tail, st.text(ALPHABET, min_size=1, max_size=12),
                  st.integers(1, 30), TEXTS)
ANY_TEXT = st.one_of(TEXTS, LOOPS)


def test_char_table_matches_the_regexes_and_str_methods() -> None:
    table = char_table()
    word, space = re.compile(r"[^\W_]"), re.compile(r"\s")
    for code in range(0x110000):
        ch = chr(code)
        assert bool(table[code] & WORD) == bool(word.match(ch)), hex(code)
        assert bool(table[code] & SPACE) == bool(space.match(ch)) == ch.isspace(), hex(code)
        if not table[code] & UNSAFE_FOLD:
            folded = ch.casefold()
            assert len(folded) == 1 and bool(word.match(folded)) == bool(word.match(ch)), hex(code)


@settings(max_examples=400, deadline=None)
@given(st.lists(ANY_TEXT, max_size=12), st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.9]), st.integers(0, 25))
def test_counts_and_bounds(texts: list[str], limit: float, run_limit: int) -> None:
    stats = TextStats(run_limit)
    stats.load(texts)
    for text in texts:
        i = stats.index(text)
        flat = " ".join(text.split())
        assert stats.flat_length[i] == len(flat)
        assert stats.newlines[i] == text.count("\n")
        assert stats.few_symbols(i, limit) == _few_symbols(text, limit)
        if stats.few_repeats(i, limit):
            assert ngram_repetition(text) <= limit
        distinct = len({flat[k:k + 10] for k in range(len(flat) - 9)})
        assert stats.distinct[i] <= distinct
        if not stats.has_run[i]:
            assert _char_run(run_limit).search(text) is None
        if (length := stats.squashed_length(i)) is not None:
            assert length == len(_squash(text))
    assert stats.index("not in the block \ufdd0") is None


def test_bounds_are_tight_on_ordinary_text() -> None:
    """Collisions are rare enough that plain prose is settled by the counts, not by the exact path."""
    texts = [f"Sentence number {i} talks about topic {i * 7} and then a little more. 第{i}句话。" * 3
             for i in range(300)]
    stats = TextStats(20)
    stats.load(texts)
    assert all(stats.few_repeats(stats.index(t), 0.7) for t in texts)
    assert not any(stats.has_run[stats.index(t)] for t in texts)


def test_lone_surrogates_and_empty_texts() -> None:
    texts = ["", "\ud800abc", "   ", "x" * 30]
    stats = TextStats(20)
    stats.load(texts)
    assert stats.has_run[stats.index("x" * 30)]
    assert stats.flat_length[stats.index("   ")] == 0
    assert classes_present(texts, N.class_table(N._CLASSES))[0] == 0


@settings(max_examples=400, deadline=None)
@given(st.lists(ANY_TEXT, max_size=10))
def test_normalizer_with_classes_equals_without(texts: list[str]) -> None:
    plain, blocked = Normalizer(), Normalizer()
    records = [{"instruction": t, "input": "", "output": t[::-1] or "x"} for t in texts]
    blocked.load_block(records)
    for record in records:
        assert blocked(record) == plain(record)
    assert blocked.changes == plain.changes


def _records(texts: list[str]) -> list[dict]:
    pairs = zip(texts[::2], texts[1::2], strict=False)
    out = []
    for n, (a, b) in enumerate(pairs):
        if n % 3 == 0:
            out.append({"instruction": a, "input": "", "output": b, "id": str(n)})
        elif n % 3 == 1:
            out.append({"instruction": a, "input": "", "output": a + b, "id": str(n), "history": [[b, a]]})
        else:
            out.append({"conversations": [{"from": "human", "value": a}, {"from": "gpt", "value": b * 3}],
                        "id": str(n)})
    return out


def _run(stage_of, records: list[dict]) -> tuple[list[dict], list[dict], dict]:
    """Kept records, the rejects file's entries in order, and the counts."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "rejects.jsonl")
        with RejectSink(path) as sink:
            ledger = Ledger(sink)
            kept = list(stage_of(ledger)(records))
        rejected = [orjson.loads(line) for line in Path(path).read_bytes().splitlines()]
    counts = ledger.to_dict(len(kept))
    for stage in counts["stages"].values():
        stage.pop("seconds")  # time differs, nothing else may
    return kept, rejected, counts


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_TEXT, max_size=24), st.integers(1, 5),
       st.sampled_from([FilterConfig(), FilterConfig(max_char_run=3, max_ngram_repetition=0.2, max_symbol_ratio=0.1,
                                                     max_duplicate_lines=0.1, max_instruction_similarity=0.5)]))
def test_block_filter_stage_equals_per_record(texts: list[str], size: int, cfg: FilterConfig) -> None:
    records = _records(texts)
    per_record = _run(lambda ledger: filter_stage("filter", record_filter(cfg), ledger), records)
    blocked = _run(lambda ledger: block_filter_stage(cfg, ledger, block=size), records)
    assert orjson.dumps(blocked) == orjson.dumps(per_record)


def test_block_stages_keep_the_rejects_order() -> None:
    """Rejects made upstream of a block stage (here: normalize) stay between the records they came between."""
    config = CleanConfig(dedupe=None)
    records = [{"instruction": f"q{i}", "input": "", "output": "" if i % 3 else f"answer {i}", "id": str(i)}
               for i in range(20)]

    def upstream(ledger: Ledger):
        def drop_every_fourth(record: dict) -> dict:
            if int(record["id"]) % 4 == 0:
                from datacraft.records import Drop
                raise Drop("fourth", "")
            return record
        return map_stage("pre", drop_every_fourth, ledger)

    def chained(blocked: bool, size: int):
        def build(ledger: Ledger):
            pre = upstream(ledger)
            if blocked:
                norm = block_normalize_stage(Normalizer(config.normalize), ledger, block=size)
                filt = block_filter_stage(config.filters, ledger, block=size)
            else:
                norm = map_stage("normalize", Normalizer(config.normalize), ledger)
                filt = filter_stage("filter", record_filter(config.filters), ledger)
            return lambda rs: filt(norm(pre(rs)))
        return build

    want = _run(chained(False, 0), records)
    assert [r["reason"] for r in want[1]][:3] == ["fourth", "empty_field", "empty_field"]
    for size in (1, 3, 7, 64):
        assert _run(chained(True, size), records) == want


def test_load_block_counts_prose_of_code_texts() -> None:
    stats = TextStats(20)
    text = "Use `aaaaaaaaaaaaaaaaaaaaaaaaaaaa` here, then more words to make it long enough."
    load_block(stats, [{"instruction": "q", "input": "", "output": text}])
    assert stats.prose[text] == prose(text)
    assert stats.index(prose(text)) is not None
    assert not stats.has_run[stats.index(prose(text))]  # the run is inside code: prose has none


# --- The compiled scan (kernel.py): every column equals the numpy path's or the exact function's ---

needs_numba = pytest.mark.skipif(not kernel.available(), reason="numba is not installed (datacraft[fast])")
# Refusal hints in every case and boundary ("has a", "as a_", "AS AN", "ſ", 作为), at the ends too.
HINTS = st.lists(st.sampled_from(["as a", "as an", "AS A", "aſ a", "has a", "as a_", "as an_", " ", "n", "N", "_",
                                  "x", "作为", "作", "为", "1", "\n"]), max_size=8).map("".join)
SCAN_TEXT = st.one_of(TEXTS, LOOPS, HINTS)


def _exact(text: str, run_limit: int) -> dict:
    """Every column of the scan, from the per-text reference functions."""
    flat = " ".join(text.split())
    return {"flat_length": len(flat), "newlines": text.count("\n"), "solid": len("".join(text.split())),
            "words": len(re.findall(r"[^\W_]", text)), "hint": _REFUSAL_HINT.search(text) is not None,
            "distinct": len({flat[k:k + 10] for k in range(len(flat) - 9)}),
            "has_run": _char_run(run_limit).search(text) is not None}


def _columns(stats: TextStats, text: str) -> dict:
    i = stats.index(text)
    return {name: getattr(stats, name)[i] for name in
            ("flat_length", "newlines", "solid", "words", "hint", "distinct", "has_run", "fold_safe")}


@needs_numba
@settings(max_examples=400, deadline=None)
@given(st.lists(SCAN_TEXT, max_size=12), st.integers(1, 25))
def test_compiled_scan_equals_numpy_path_and_exact(texts: list[str], run_limit: int) -> None:
    compiled, numpy_path = TextStats(run_limit, compiled=True), TextStats(run_limit, compiled=False)
    compiled.load(texts)
    numpy_path.load(texts)
    assert compiled.exact and not numpy_path.exact
    for text in texts:
        got, bound, exact = _columns(compiled, text), _columns(numpy_path, text), _exact(text, run_limit)
        for name in ("flat_length", "newlines", "solid", "words", "fold_safe"):
            assert got[name] == bound[name], name  # exact counts on both paths
        assert bound["hint"] is None  # numpy's path leaves the hint to the refusal check
        for name in ("flat_length", "newlines", "solid", "words", "hint", "distinct", "has_run"):
            assert got[name] == exact[name], name
        # numpy's figures are bounds of the exact ones: fewer distinct 10-grams, more run alarms
        assert bound["distinct"] <= got["distinct"] and (bound["has_run"] or not got["has_run"])
        assert compiled.repetition(compiled.index(text)) == ngram_repetition(text)
        assert numpy_path.repetition(numpy_path.index(text)) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(SCAN_TEXT, max_size=6), st.integers(0, 25))
def test_scan_kernel_as_plain_python(texts: list[str], run_limit: int) -> None:
    """The kernel's own code, uncompiled: the same exact columns (runs where numba is missing too)."""
    rows = kernel.scan(texts, char_table(), run_limit, python=True)
    for text, row in zip(texts, rows.tolist(), strict=True):
        want = _exact(text, run_limit)
        assert row[kernel.FLAT] == want["flat_length"] and row[kernel.DISTINCT] == want["distinct"]
        assert row[kernel.SOLID] == want["solid"] and row[kernel.WORDS] == want["words"]
        assert row[kernel.NEWLINES] == want["newlines"] and bool(row[kernel.HINT]) == want["hint"]
        assert bool(row[kernel.RUN]) == (want["has_run"] if run_limit else False)
        assert (row[kernel.UNSAFE] == 0) == all(not char_table()[ord(c)] & UNSAFE_FOLD for c in text)
    if kernel.available():
        assert np.array_equal(rows, kernel.scan(texts, char_table(), run_limit))


def test_kernel_uses_the_same_table_bits() -> None:
    assert (kernel.WORD, kernel.SPACE, kernel.UNSAFE_FOLD, kernel.N) == (WORD, SPACE, UNSAFE_FOLD, blockstats.N)


def test_compiled_scan_on_long_and_odd_texts() -> None:
    if not kernel.available():
        pytest.skip("numba is not installed (datacraft[fast])")
    texts = ["", " ", "\ud800abc", "a" * 5000, "abcdefghij" * 300, "作为一个AI语言模型，" * 40,
             "As an AI, I cannot" + " x" * 2000, "x" * 9, "y" * 10, "中" * 21 + " " + "中" * 21]
    stats = TextStats(20, compiled=True)
    stats.load(texts)
    for text in texts:
        assert {k: v for k, v in _columns(stats, text).items() if k != "fold_safe"} == _exact(text, 20)


def test_scan_switches_on_after_the_threshold(monkeypatch) -> None:
    monkeypatch.setattr(kernel, "loaded", lambda: False)
    monkeypatch.setattr(blockstats, "KERNEL_AFTER", 5)
    stats = TextStats(20)
    stats.load(["a b c"] * 3 + ["x"])
    assert not stats.exact  # 2 distinct texts counted: under the threshold, numpy
    stats.load([f"text {i}" for i in range(10)])
    assert stats.exact == kernel.available()


def test_classes_kernel_flags_equal_the_string_tests() -> None:
    if not kernel.available():
        pytest.skip("numba is not installed (datacraft[fast])")

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.text(st.sampled_from(list("ab \t\n\r中，（）ＡＢ１＂`~<&\u200b\u00a0\u3000")), max_size=30),
                    max_size=10))
    def check(texts: list[str]) -> None:
        table = N.class_table(N._CLASSES)
        got = kernel.classes(texts, table, N.SPACE, N.CJK, N.FULLWIDTH, N.FULLWIDTH_NOT_PUNCT, N.WS_DIRTY,
                             N.HALFWIDTH)
        for text, bits, plain in zip(texts, got, classes_present(texts, table), strict=True):
            assert bits & ~(N.WS_DIRTY | N.HALFWIDTH) == plain
            assert bool(bits & N.WS_DIRTY) == (not N.whitespace_is_clean(text, rare=False))
            if not bits & N.HALFWIDTH:
                assert N.to_halfwidth(text) == text

    check()


@pytest.fixture(params=["numpy", "compiled"])
def count_path(request, monkeypatch):
    """Run a test with the block counts from numpy, then from the compiled scan (where numba is)."""
    if request.param == "compiled" and not kernel.available():
        pytest.skip("numba is not installed (datacraft[fast])")
    choice = request.param == "compiled"
    monkeypatch.setattr(blockstats, "use_kernel", lambda compiled, counted: choice)
    monkeypatch.setattr(N, "use_kernel", lambda compiled, counted: choice)
    return request.param


def test_block_stages_equal_per_record_on_both_paths(count_path) -> None:
    @settings(max_examples=150, deadline=None)
    @given(st.lists(SCAN_TEXT, max_size=24), st.integers(1, 5),
           st.sampled_from([FilterConfig(), FilterConfig(max_char_run=3, max_ngram_repetition=0.2,
                                                         max_symbol_ratio=0.1, max_duplicate_lines=0.1,
                                                         max_instruction_similarity=0.5)]))
    def check(texts: list[str], size: int, cfg: FilterConfig) -> None:
        records = _records(texts)
        per_record = _run(lambda ledger: filter_stage("filter", record_filter(cfg), ledger), records)
        blocked = _run(lambda ledger: block_filter_stage(cfg, ledger, block=size), records)
        assert orjson.dumps(blocked) == orjson.dumps(per_record)
        plain, block = Normalizer(), Normalizer()
        for s in range(0, len(records), size):
            block.load_block(records[s:s + size])
            for record in records[s:s + size]:
                assert block(record) == plain(record)
        assert block.changes == plain.changes

    check()
