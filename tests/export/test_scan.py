"""Export's one-pass scan: same files as the two-pass export it replaced, and each shortcut it takes
(the conversation read once, rows spooled as bytes, the output check called directly, batched
language tags) gives what the long way gives."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacraft.export import export_dataset, output_issues, scan
from datacraft.export.dataset_info import OPTIONAL_COLUMNS
from datacraft.io import jsonvalues
from datacraft.io.writers import dumps_json, dumps_line
from datacraft.records import Drop, conversation, conversation_text, to_form, turns_text
from datacraft.textutil import CJK_CLASS, _script_counts, language, languages
from datacraft.validate.checker import FAST_CHECKERS

FIXTURES = Path(__file__).parents[1] / "fixtures"
FORMS = ("alpaca", "sharegpt", "openai")

# Export's files (train, validation, provenance, rejects, dataset_info.json) for each input, form and
# file format, as main wrote them before the scan (main 94bddbf): the sha256 of "name digest\n" lines,
# or of the error's first 80 characters. Both with the rows in memory and with them in a temp file.
PINNED = {
    "export_records.jsonl|alpaca|jsonl": "bb49f36122c53c95c76022f8dca62495",
    "export_records.jsonl|alpaca|json": "190c7c411de2f01ee4c861ba7db37f80",
    "export_records.jsonl|sharegpt|jsonl": "a37109395ecdf16b33fa97b5aec8b342",
    "export_records.jsonl|sharegpt|json": "03445efbdbe7ac5fd2408ad43475fb49",
    "export_records.jsonl|openai|jsonl": "3902d1f76c6b550f4c98c0015a102c18",
    "export_records.jsonl|openai|json": "7eff04b64fdf4493516ad95b1dcdf4c3",
    "formats/alpaca.jsonl+formats/sharegpt.jsonl+formats/openai.jsonl|alpaca|jsonl": "8d7abc9219345a8a4d3c87d5991e8d46",
    "formats/alpaca.jsonl+formats/sharegpt.jsonl+formats/openai.jsonl|alpaca|json": "d08db156ababa7b79197e8429915316d",
    "formats/alpaca.jsonl+formats/sharegpt.jsonl+formats/openai.jsonl|sharegpt|jsonl": "a23f6d1ea5d85f8df7982275a2ce61f5",
    "formats/alpaca.jsonl+formats/sharegpt.jsonl+formats/openai.jsonl|sharegpt|json": "ab65dd01d3ce1adeeee94cb27dc4b7af",
    "formats/alpaca.jsonl+formats/sharegpt.jsonl+formats/openai.jsonl|openai|jsonl": "52a8b349fb6e94e06e4f3747a71d40de",
    "formats/alpaca.jsonl+formats/sharegpt.jsonl+formats/openai.jsonl|openai|json": "a72553d1365302a9b33aaca1caf72f65",
    "formats/sharegpt_tools.jsonl|alpaca|jsonl": "7260f8c0e7348fcf33364e535a258175",
    "formats/sharegpt_tools.jsonl|alpaca|json": "2ccf2a48a38b8ee05e62fb49cf99e876",
    "formats/sharegpt_tools.jsonl|sharegpt|jsonl": "d87db65386ede702919e8d761a372300",
    "formats/sharegpt_tools.jsonl|sharegpt|json": "53ebba35bc594517abaf115bf808c15d",
    "formats/sharegpt_tools.jsonl|openai|jsonl": "ec0003e9b1deea9e125ba913f04dd130",
    "formats/sharegpt_tools.jsonl|openai|json": "ec0003e9b1deea9e125ba913f04dd130",
    "formats/preference.jsonl|alpaca|jsonl": "cad571ad20caa67446b02bd36faaab0c",
    "formats/preference.jsonl|alpaca|json": "2f3d3b10a2d0a9edb7f4a169e6f158b8",
    "formats/preference.jsonl|sharegpt|jsonl": "e8ef401f2c8368e07cace2aaf91ec37d",
    "formats/preference.jsonl|sharegpt|json": "c3c01405b88213dd629a757b48c25676",
    "formats/preference.jsonl|openai|jsonl": "239b5f4d2c9f7fca13bb26d199281332",
    "formats/preference.jsonl|openai|json": "ac1804dc1194aa51fa2c63e8cebd5873",
}


def punctuation_blind(texts):
    keys = [re.sub(r"[\W_]+", "", t.casefold()) for t in texts]
    return [keys.index(k) for k in keys]


def _case_digest(out: Path, inputs: list[str], fmt: str, file_format: str) -> str:
    try:
        export_dataset([str(FIXTURES / i) for i in inputs], str(out), fmt=fmt, file_format=file_format, val_size=0.3,
                       cluster=punctuation_blind)
    except Exception as exc:  # noqa: BLE001 - the pinned outcome may be an error
        text = type(exc).__name__ + ": " + str(exc)[:80]
    else:
        text = "".join(f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in sorted(out.iterdir()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@pytest.mark.parametrize("spill", [False, True], ids=["in_memory", "temp_file"])
def test_files_are_byte_for_byte_main_s(tmp_path, monkeypatch, spill):
    if spill:
        monkeypatch.setattr(scan, "SPOOL_BYTES", 0)  # every row goes through the temp file
    got = {}
    for n, key in enumerate(PINNED):
        inputs, fmt, file_format = key.split("|")
        got[key] = _case_digest(tmp_path / str(n), inputs.split("+"), fmt, file_format)
    assert got == PINNED


# ---- records of every form, for the shortcuts' properties --------------------------------------

_TEXT = st.text(st.sampled_from(list("ab Z1 中文か한\t\n,.")), max_size=6)
_USER, _ANSWER = ("human", "observation"), ("gpt", "function_call")


def _turns(roles, key, content):
    return st.lists(st.tuples(st.sampled_from(roles), _TEXT), max_size=5).map(
        lambda pairs: [{key: r, content: t} for r, t in pairs])


_alpaca = st.fixed_dictionaries(
    {"instruction": _TEXT, "output": _TEXT},
    optional={"input": _TEXT, "system": _TEXT, "tools": st.one_of(_TEXT, st.just([{"name": "f"}])),
              "history": st.lists(st.lists(_TEXT, min_size=2, max_size=2), max_size=2),
              "kto_tag": st.booleans()})
_sharegpt = st.fixed_dictionaries(
    {"conversations": _turns([*_USER, *_ANSWER, "system"], "from", "value")},
    optional={"system": _TEXT, "tools": _TEXT,
              "chosen": st.builds(lambda t: {"from": "gpt", "value": t}, _TEXT),
              "rejected": st.builds(lambda t: {"from": "gpt", "value": t}, _TEXT)})
_openai = st.fixed_dictionaries(
    {"messages": _turns(["user", "assistant", "tool", "system"], "role", "content")},
    optional={"chosen": st.builds(lambda t: {"role": "assistant", "content": t}, _TEXT),
              "rejected": st.builds(lambda t: {"role": "assistant", "content": t}, _TEXT)})
RECORDS = st.one_of(_alpaca, _alpaca.map(lambda r: {**r, "chosen": r["output"], "rejected": "no"}), _sharegpt, _openai)


def _forms(record):
    """(fmt, conversation, fields) for every form the record converts to."""
    try:
        chat = conversation(record)
    except Drop:
        return []
    out = []
    for fmt in FORMS:
        try:
            out.append((fmt, chat, to_form(record, fmt)))
        except Drop:
            pass
    return out


@settings(max_examples=600, deadline=None)
@given(RECORDS)
def test_text_from_the_conversation_read_once_is_the_converted_record_s(record):
    """The split's text, taken from the record's conversation, is what it was: that of the converted fields."""
    for _, chat, fields in _forms(record):
        assert turns_text(chat) == conversation_text(fields)
        assert turns_text(chat, system=True) == conversation_text(fields, system=True)


@settings(max_examples=600, deadline=None)
@given(RECORDS)
def test_converted_fields_are_already_the_written_row(record):
    """The spool writes the converted fields as they are: their columns are in FIELD_ORDER, empty ones left out."""
    for fmt, _, fields in _forms(record):
        own = {c for c in OPTIONAL_COLUMNS[fmt] if fields.get(c)}
        row = scan.fill(fields, fmt, own)
        assert list(row) == list(fields) and row == fields
        assert dumps_line(orjson.loads(dumps_json(fields))) == dumps_line(fields)  # a refill reads it back


@settings(max_examples=600, deadline=None)
@given(RECORDS)
def test_the_direct_check_agrees_with_output_issues(record):
    for fmt, _, fields in _forms(record):
        if "chosen" not in fields:
            assert bool(FAST_CHECKERS[fmt].check(fields)) == bool(output_issues(fields, fmt))


_META = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False),
                               st.text(max_size=5)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                     max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=5), st.integers(0, 99)), _META, st.sampled_from(["train", "validation"]),
       st.integers(0, 10**6))
def test_provenance_line_is_dumps_line_s(rid, meta, split, index):
    line = b'{"id":%b,"split":"%b","index":%d,"meta":%b}\n' % (dumps_json(rid), split.encode(), index,
                                                               dumps_json(meta))
    assert line == dumps_line({"id": rid, "split": split, "index": index, "meta": meta})


def test_spool_replays_rows_in_memory_and_from_its_file():
    rows = [scan.Row(i % 4, b'{"a":"x\\ty\\n"}', b'"r%d"' % i, b'{"m":[1,2.5]}') for i in range(50)]
    for limit in (10**9, 0, 300):
        spool = scan.RowSpool(limit)
        try:
            for row in rows:
                spool.append(row)
            assert list(spool) == rows and list(spool) == rows  # replayable
        finally:
            spool.close()


# ---- the batched language tagger -----------------------------------------------------------------

_CHARS = list("ab Zz1 中文かカ한국\u3000，.LoRA微调ÀßЖ\U00020000\U0001f600\u4dbf\u4dc0\uf900\ufaff\ud7af\ud7b0\u30ff\u3100")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(st.sampled_from(_CHARS), max_size=30), max_size=20))
def test_languages_tags_as_language(texts):
    assert languages(texts) == [language(t) for t in texts]


def test_languages_on_long_texts_and_every_code_point_class():
    long_zh = "中" * 70000 + "a" * 3  # past 2^15 characters: tagged one by one
    texts = [long_zh, "a" * 70000, "", "x", "カ" + "a" * 100, "\U0001f600" * 40000 + "a", "中" * 32767]
    assert languages(texts) == [language(t) for t in texts] == ["zh", "en", "other", "en", "ja", "en", "zh"]
    table = _script_counts()
    cjk = re.compile(f"[{CJK_CLASS}]")
    mask16 = (1 << 16) - 1
    for code in range(0x10000):
        value = int(table[code])
        if 0xD800 <= code <= 0xDFFF:  # surrogates: the halves of a character above the BMP, in no class
            assert value == 0
            continue
        ch = chr(code)
        assert (value >> 16) & mask16 == bool(cjk.match(ch)), hex(code)
        assert value & mask16 == bool(re.match("[A-Za-z]", ch)), hex(code)
        assert (value >> 48) & mask16 == bool(re.match("[\u3040-\u30ff]", ch)), hex(code)
        assert (value >> 32) & mask16 == bool(re.match("[\uac00-\ud7af]", ch)), hex(code)


# ---- the reader's shape walk ---------------------------------------------------------------------


def _shape_before(value):
    """jsonvalues._shape as it was (every non-string pushed on the stack)."""
    keys, floats, deepest = 0, False, 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            deepest = max(deepest, depth)
            children = item.values() if kind is dict else item
            if kind is dict:
                keys += len(item)
            stack.extend((v, depth + 1) for v in children if type(v) is not str)
        elif kind is float and abs(item) >= 2.0 ** 63:
            floats = True
    return keys, floats, deepest


@settings(max_examples=800, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from([2.0 ** 64, -1e300]),
                              st.text(max_size=3)),
                    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)),
                    max_leaves=20))
def test_shape_is_unchanged(value):
    assert jsonvalues._shape(value) == _shape_before(value)


# ---- the split's tables ---------------------------------------------------------------------------


def _assign_split_before(groups, val_size, seed=42, strata=None):
    """split.assign_split as it was (a list of members per group), the reference for the table-light one."""
    import random
    from collections import Counter, defaultdict

    from datacraft.export.split import _quotas, validation_target

    n = len(groups)
    target = validation_target(n, val_size)
    members = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    labels = sorted(members)
    rng = random.Random(seed)
    taken, count = set(), 0

    def fill(candidates, goal, current):
        nonlocal count
        for g in candidates:
            size = len(members[g])
            if g in taken or current >= goal:
                continue
            if size < 2 * (goal - current) and count + size < n:
                taken.add(g)
                current += size
                count += size
        return current

    if strata is not None and target:
        by_stratum = defaultdict(list)
        for g in labels:
            by_stratum[Counter(strata[i] for i in members[g]).most_common(1)[0][0]].append(g)
        sizes = {s: sum(len(members[g]) for g in gs) for s, gs in by_stratum.items()}
        for stratum, quota in sorted(_quotas(target, sizes).items()):
            candidates = by_stratum[stratum][:]
            rng.shuffle(candidates)
            fill(candidates, quota, 0)
    remaining = [g for g in labels if g not in taken]
    rng.shuffle(remaining)
    fill(remaining, target, count)
    return [g in taken for g in groups]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=80), st.sampled_from([0.05, 0.2, 0.5, 3, 0]),
       st.integers(0, 5), st.booleans(), st.lists(st.sampled_from(["zh", "en", "ja"]), min_size=80, max_size=80))
def test_assign_split_is_unchanged(labels, val_size, seed, stratify, strata):
    # Labels as Grouper gives them (each the index of its group's first record) and arbitrary ones.
    first: dict[int, int] = {}
    rooted = [first.setdefault(label, i) for i, label in enumerate(labels)]
    from datacraft.export.split import assign_split

    for groups in (rooted, labels):
        chosen = strata[:len(groups)] if stratify else None
        assert assign_split(groups, val_size, seed, chosen) == _assign_split_before(groups, val_size, seed, chosen)
