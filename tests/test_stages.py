import json

from datacraft.stages import Ledger, Reject, RejectSink, chain, filter_stage, map_stage, read_stage


def _records(n):
    return [{"instruction": f"q{i}", "output": "x" * i, "id": str(i)} for i in range(n)]


def test_filter_stage_counts_and_rejects(tmp_path):
    rejects = tmp_path / "rej.jsonl"
    with RejectSink(str(rejects)) as sink:
        ledger = Ledger(sink)

        def long_enough(record):
            n = len(record["output"])
            return n >= 3 or (False, "too_short", f"{n} < 3")

        kept = list(filter_stage("filter", long_enough, ledger)(_records(5)))
    assert [r["id"] for r in kept] == ["3", "4"]
    stats = ledger.stages["filter"]
    assert (stats.read, stats.kept, stats.dropped) == (5, 2, 3)
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"stage": "filter", "reason": "too_short", "detail": "0 < 3", "source": "0",
                        "record": {"instruction": "q0", "output": "", "id": "0"}}


def test_plain_false_uses_the_predicate_name():
    ledger = Ledger()

    def no_q1(record):
        return record["instruction"] != "q1"

    assert len(list(filter_stage("f", no_q1, ledger)(_records(3)))) == 2
    assert ledger.stages["f"].rejected == {"no_q1": 1}


def test_map_stage_reject_and_chain_balance():
    ledger = Ledger()

    def upper(record):
        if record["id"] == "2":
            raise Reject("bad_id", "two", dup_of="1")
        return {**record, "instruction": record["instruction"].upper()}

    out = list(chain(_records(4), map_stage("norm", upper, ledger),
                     filter_stage("f", lambda r: r["id"] != "3" or (False, "three"), ledger)))
    assert [r["instruction"] for r in out] == ["Q0", "Q1"]
    summary = ledger.to_dict(len(out))
    assert summary["reasons"] == {"norm/bad_id": 1, "f/three": 1}
    assert summary["read"] == summary["kept"] + summary["rejected"]


def test_read_stage_rejects_bad_rows_and_assigns_ids(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\nnot json\n5\n{"instruction": "c", "output": "d", "id": "own"}\n',
                    encoding="utf-8")
    rejects = tmp_path / "rej.jsonl"
    with RejectSink(str(rejects)) as sink:
        ledger = Ledger(sink)
        records = list(read_stage([str(path)], ledger))
    assert [r["id"] for r in records] == ["in:1", "own"]
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(e["reason"], e["source"].rsplit("/", 1)[-1], e["raw"]) for e in entries] == [
        ("invalid_json", "in.jsonl:2", "not json"), ("not_an_object", "in.jsonl:3", "5")]
    assert ledger.to_dict(len(records))["read"] == 4
