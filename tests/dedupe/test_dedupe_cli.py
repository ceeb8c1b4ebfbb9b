"""`datacraft dedupe` through Click (exit codes, summary, rejects, stats, errors); determinism across processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
from click.testing import CliRunner
from jsonl_io import read_jsonl as lines

from datacraft.cli import cli
from datacraft.dedupe import DedupeConfig, load_dedupe_config
from datacraft.errors import ConfigError
from tests.dedupe.helpers import corpus

FIXTURES = Path(__file__).parent.parent / "fixtures"
MIXED = str(FIXTURES / "dedupe_mixed.jsonl")
REFS = str(FIXTURES / "dedupe_refs.jsonl")




def test_dedupe_writes_output_rejects_and_summary(tmp_path):
    out, rej, stats = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "stats.json"
    result = CliRunner().invoke(cli, ["dedupe", MIXED, "-o", str(out), "--rejects", str(rej), "--stats", str(stats)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "read 17, kept 10, rejected 7",
        "  read          in      17  kept      17  dropped      0",
        "  exact_dedupe  in      17  kept      14  dropped      3",
        "      exact_duplicate                   3",
        "  near_dedupe   in      14  kept      10  dropped      4",
        "      near_duplicate                    4",
        f"wrote 10 records to {out}, rejects to {rej}",
    ]
    assert len(lines(out)) == 10
    rejects = lines(rej)
    assert len(rejects) == 7
    near = next(e for e in rejects if e["record"]["id"] == "d08")
    assert (near["stage"], near["reason"], near["dup_of"], near["source"]) == ("near_dedupe", "near_duplicate", "d06", "d08")
    data = orjson.loads(stats.read_bytes())
    assert (data["read"], data["kept"], data["rejected"]) == (17, 10, 7)
    assert data["reasons"] == {"near_dedupe/near_duplicate": 4, "exact_dedupe/exact_duplicate": 3}
    assert data["stages"]["near_dedupe"]["read"] == 14


def test_output_is_idempotent_through_the_cli(tmp_path):
    out, out2 = tmp_path / "out.jsonl", tmp_path / "out2.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli, ["dedupe", MIXED, "-o", str(out), "--keep", "longest"]).exit_code == 0
    result = runner.invoke(cli, ["dedupe", str(out), "-o", str(out2), "--keep", "longest"])
    assert result.exit_code == 0 and "rejected 0" in result.output
    assert out.read_bytes() == out2.read_bytes()


def test_against_and_threshold_options(tmp_path):
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = CliRunner().invoke(cli, ["dedupe", MIXED, "-o", str(out), "--rejects", str(rej), "--against", REFS])
    assert result.exit_code == 0, result.output
    assert "copies_reference" in result.output
    entry = next(e for e in lines(rej) if e["reason"] == "copies_reference")
    assert entry["record"]["id"] == "d09" and entry["dup_of"] == "ref-wall"
    assert not any(r["id"].startswith("ref") for r in lines(out))
    strict = CliRunner().invoke(cli, ["dedupe", MIXED, "-o", str(out), "--threshold", "0.99"])
    assert strict.output.splitlines()[0] == "read 17, kept 14, rejected 3"


def test_stdout_output_and_summary_on_stderr(tmp_path):
    result = CliRunner().invoke(cli, ["dedupe", MIXED, "-o", "-"])
    assert result.exit_code == 0
    assert [orjson.loads(x)["id"] for x in result.stdout.splitlines()][:3] == ["d01", "d04", "d05"]
    assert result.stderr.startswith("read 17, kept 10, rejected 7")


def test_unreadable_lines_are_rejected_and_counted(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "a", "output": "b"}\nnot json\n{"instruction": "a", "output": "b!"}\n')
    rej = tmp_path / "rej.jsonl"
    result = CliRunner().invoke(cli, ["dedupe", str(src), "-o", str(tmp_path / "o.jsonl"), "--rejects", str(rej)])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "read 3, kept 1, rejected 2"
    assert [e["reason"] for e in lines(rej)] == ["invalid_json", "exact_duplicate"]
    assert lines(rej)[1]["dup_of"] == "in:1"
    strict = CliRunner().invoke(cli, ["dedupe", str(src), "-o", str(tmp_path / "o.jsonl"), "--strict"])
    assert strict.exit_code == 2 and strict.stderr.startswith(f"Error: {src}:2: invalid JSON")


def test_missing_input_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["dedupe", MIXED, str(missing), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {missing}: file not found\n"
    assert not out.exists()
    result = CliRunner().invoke(cli, ["dedupe", MIXED, "-o", str(out), "--against", str(missing)])
    assert result.exit_code == 2 and result.stderr == f"Error: {missing}: reference file not found\n"


def test_refuses_to_overwrite_an_input(tmp_path):
    src = tmp_path / "in.jsonl"
    shutil.copy(MIXED, src)
    result = CliRunner().invoke(cli, ["dedupe", str(src), "-o", str(src)])
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert src.read_bytes() == Path(MIXED).read_bytes()


def test_config_file_and_unknown_keys(tmp_path):
    cfg = tmp_path / "dedupe.yaml"
    cfg.write_text("threshold: 0.99\nkeep: longest\n")
    assert load_dedupe_config(str(cfg)) == DedupeConfig(threshold=0.99, keep="longest")
    assert load_dedupe_config(str(cfg), threshold=0.7).threshold == 0.7  # command-line options win
    cfg.write_text("threshhold: 0.9\n")
    result = CliRunner().invoke(cli, ["dedupe", MIXED, "-o", str(tmp_path / "o.jsonl"), "--config", str(cfg)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {cfg}: unknown key 'threshhold'\n"
    cfg.write_text("bands: 30\nrows: 6\n")
    try:
        load_dedupe_config(str(cfg))
    except ConfigError as exc:
        assert "exceeds num_perm" in str(exc)
    else:
        raise AssertionError("bands * rows > num_perm accepted")


def test_same_output_across_processes_and_hash_seeds(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in corpus(seed=13, groups=80)))
    outputs = []
    for seed in ("1", "2"):
        out, rej = tmp_path / f"out{seed}.jsonl", tmp_path / f"rej{seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        code = "import sys; from datacraft.dedupe import dedupe_file; dedupe_file([sys.argv[1]], sys.argv[2], rejects=sys.argv[3])"
        subprocess.run([sys.executable, "-c", code, str(src), str(out), str(rej)], check=True, env=env, capture_output=True)
        outputs.append((out.read_bytes(), rej.read_bytes()))
    assert outputs[0] == outputs[1]
    assert 0 < len(outputs[0][0].splitlines()) < len(src.read_bytes().splitlines())
