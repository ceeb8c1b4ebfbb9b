"""Kill `datacraft generate` mid-run (SIGKILL, and Ctrl-C) and check that a rerun loses and repeats nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakellm import FakeLLM

from datacraft.cli import cli

SEEDS = str(Path(__file__).parent.parent / "fixtures" / "generate" / "seeds_en.jsonl")


def args(server: FakeLLM, out: Path) -> list[str]:
    return ["generate", "--seeds", SEEDS, "-n", "60", "-o", str(out), "--base-url", server.url,
            "--model", "fake-model", "--concurrency", "4", "--rejects", str(out.with_suffix(".rejects.jsonl"))]


def start(server: FakeLLM, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OPENAI_API_KEY": "sk-local"}
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.Popen([sys.executable, "-c", "from datacraft.cli import cli; cli()", *args(server, out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journal(out: Path) -> list[dict]:
    path = Path(f"{out}.run") / "journal.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:  # a torn last line, if we caught the writer mid-write
            break
    return [e for e in entries if e["type"] == "request"]


def wait_for_commits(process: subprocess.Popen, out: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(journal(out)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.01)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_sigkill_then_rerun_gives_the_uninterrupted_result_without_repeating_requests(tmp_path):
    with FakeLLM(delay=0.15, items_per_reply=2) as server:
        reference = tmp_path / "reference" / "gen.jsonl"
        assert CliRunner().invoke(cli, args(server, reference)).exit_code == 0
        expected = read(reference)

        killed = tmp_path / "killed" / "gen.jsonl"
        sent_before = len(server.requests)
        process = start(server, killed)
        wait_for_commits(process, killed, 4)
        process.send_signal(signal.SIGKILL)
        process.wait()
        committed = journal(killed)
        done_before = {e["k"] for e in committed}
        accepted_before = [r["id"] for e in committed for r in e["accepted"]]
        assert 4 <= len(done_before) < 30 and not killed.exists()  # killed mid-run, before the output was written

        resumed_from = len(server.requests)
        result = CliRunner().invoke(cli, args(server, killed))
        assert result.exit_code == 0, result.output
        final = read(killed)
        rerun_seeds = [body["seed"] for body in server.requests[resumed_from:]]
        first_run_seeds = [body["seed"] for body in server.requests[sent_before:resumed_from]]

    assert final == expected  # same records, same order, same provenance
    assert len({r["id"] for r in final}) == len(final) == 60
    assert set(accepted_before) <= {r["id"] for r in final}
    assert not done_before & set(rerun_seeds)  # nothing committed before the kill was asked again
    assert len(rerun_seeds) == len(set(rerun_seeds))
    # Replies that arrived but were not committed came from the cache: only requests still in flight at
    # the kill (at most `concurrency` of them) were sent twice.
    assert len(set(first_run_seeds) & set(rerun_seeds)) <= 4
    rejects = read(killed.with_suffix(".rejects.jsonl"))
    assert rejects == read(reference.with_suffix(".rejects.jsonl"))


@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_ctrl_c_or_sigterm_saves_what_was_accepted_and_says_how_to_resume(tmp_path, sig, code, said):
    with FakeLLM(delay=0.15, items_per_reply=2) as server:
        out = tmp_path / "gen.jsonl"
        process = start(server, out)
        wait_for_commits(process, out, 3)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == code, stderr
        assert "Interrupted: accepted records are saved; rerun the same command to resume." in stderr
        assert f"stopped: {said}" in stdout
        manifest = json.loads((tmp_path / "gen.manifest.json").read_text())
        assert manifest["stopped"] == ("interrupted" if sig == signal.SIGINT else "terminated")
        saved = read(out)
        assert [r["id"] for r in saved] == [r["id"] for e in journal(out) for r in e["accepted"]]
        result = CliRunner().invoke(cli, args(server, out))
        assert result.exit_code == 0 and len(read(out)) == 60
        assert [r["id"] for r in read(out)][:len(saved)] == [r["id"] for r in saved]


def test_a_budget_that_runs_out_during_a_repair_resumes_to_the_same_records(tmp_path):
    from fakellm import Reply, invent_items

    def handler(body, index):  # every third first reply is garbage; its repair is good
        if len(body["messages"]) == 1 and body["seed"] % 3 == 0:
            return Reply("Sorry, here is nothing useful.")
        return Reply(json.dumps({"items": invent_items(body["seed"], 2)}))

    def run(server, out, *extra):
        return CliRunner().invoke(cli, [*args(server, out)[:-2], "-n", "12", "--concurrency", "1", *extra])

    with FakeLLM(handler) as server:
        reference = tmp_path / "reference" / "gen.jsonl"
        assert run(server, reference).exit_code == 0
        resumed = tmp_path / "resumed" / "gen.jsonl"
        first = run(server, resumed, "--max-requests", "1")  # request 0's reply is paid, its repair is not
        assert "stopped: hit --max-requests" in first.output
        assert run(server, resumed).exit_code == 0
    assert read(resumed) == read(reference)
