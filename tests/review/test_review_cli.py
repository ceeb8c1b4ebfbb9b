"""`datacraft review`: interactive decisions fed through stdin, and the `--auto` LLM judge."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner
from fakellm import Reply

from datacraft.cli import cli
from datacraft.generate import load_feedback
from datacraft.review import parse_verdict

RECORDS = [
    {"instruction": "Name a primary colour.", "input": "", "output": "Red.", "id": "gen-0-0", "meta": {"round": 1}},
    {"instruction": "Add 2 and 2.", "input": "", "output": "5", "id": "gen-0-1", "meta": {"round": 1}},
    {"instruction": "Say hello.", "input": "", "output": "Sure! Hello.", "id": "gen-0-2", "meta": {"round": 1}},
    {"instruction": "Capital of France?", "input": "", "output": "Paris is the capital.", "id": "gen-0-3"},
]


def write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def review(tmp_path: Path, stdin: str, *extra: str, env: dict | None = None):
    source = write(tmp_path / "gen.jsonl", RECORDS)
    args = ["review", source, "--feedback", str(tmp_path / "feedback.jsonl"), "-o", str(tmp_path / "reviewed.jsonl")]
    return CliRunner().invoke(cli, [*args, *extra], input=stdin, env=env)


def test_accept_reject_with_reasons_and_inline_edit(tmp_path):
    # a, r + new reason, i (inline: keep instruction, keep input, new output) + reason, r + reason number 1
    stdin = "a\nr\nwrong arithmetic\ni\n\n\nHello!\nfiller opening\nr\n1\n"
    result = review(tmp_path, stdin, "--rejects", str(tmp_path / "rejected.jsonl"))
    assert result.exit_code == 0, result.output
    assert "[2/4] gen-0-1" in result.output and "  1) wrong arithmetic" in result.output
    assert "reviewed 4 of 4: accepted 1, edited 1, rejected 2" in result.output
    reviewed = read(tmp_path / "reviewed.jsonl")
    assert [r["id"] for r in reviewed] == ["gen-0-0", "gen-0-2"]
    assert reviewed[1]["output"] == "Hello!" and reviewed[1]["meta"] == {
        "round": 1, "review": {"verdict": "edited", "by": "human"}}
    assert reviewed[0]["meta"]["review"] == {"verdict": "accepted", "by": "human"}
    feedback = read(tmp_path / "feedback.jsonl")
    assert [(f["id"], f["verdict"], f.get("reason")) for f in feedback] == [
        ("gen-0-0", "accepted", None), ("gen-0-1", "rejected", "wrong arithmetic"),
        ("gen-0-2", "edited", "filler opening"), ("gen-0-3", "rejected", "wrong arithmetic")]
    assert feedback[2]["better"] == {"instruction": "Say hello.", "output": "Hello!"}
    assert feedback[1]["output"] == "5" and feedback[1]["source"] == "human"
    loaded = load_feedback(str(tmp_path / "feedback.jsonl"))  # generate can read what review wrote
    assert [e.reason for e in loaded.lessons()] == ["wrong arithmetic", "filler opening", "wrong arithmetic"]
    assert loaded.lessons()[1].better == {"instruction": "Say hello.", "output": "Hello!"}
    rejected = read(tmp_path / "rejected.jsonl")
    assert [(r["source"], r["reason"], r["detail"]) for r in rejected] == [
        ("gen-0-1", "rejected_in_review", "wrong arithmetic"), ("gen-0-3", "rejected_in_review", "wrong arithmetic")]
    assert len(reviewed) + len(rejected) == len(RECORDS)


def test_reasons_from_earlier_sessions_are_offered_and_quit_keeps_everything_undecided(tmp_path):
    write(tmp_path / "feedback.jsonl", [{"instruction": "x", "output": "y", "reason": "too short"}])
    result = review(tmp_path, "r\n1\nq\n")
    assert result.exit_code == 0, result.output
    assert "  1) too short" in result.output and "reviewed 1 of 4" in result.output
    assert [f["reason"] for f in read(tmp_path / "feedback.jsonl")] == ["too short", "too short"]
    reviewed = read(tmp_path / "reviewed.jsonl")  # the rejected one left; the undecided stay, marked
    assert [(r["id"], r["meta"]["review"]["verdict"]) for r in reviewed] == [
        ("gen-0-1", "unreviewed"), ("gen-0-2", "unreviewed"), ("gen-0-3", "unreviewed")]


def test_end_of_input_saves_and_exits_130(tmp_path):
    result = review(tmp_path, "a\n")
    assert result.exit_code == 130
    reviewed = read(tmp_path / "reviewed.jsonl")
    assert [r["meta"]["review"]["verdict"] for r in reviewed] == ["accepted", "unreviewed", "unreviewed", "unreviewed"]


def test_a_second_session_skips_what_was_decided_and_keeps_the_decisions(tmp_path):
    review(tmp_path, "a\nr\nwrong\nq\n")
    again = review(tmp_path, "r\nfiller\nq\n")
    assert "[1/2] gen-0-2" in again.output and "(2 decided earlier)" in again.output
    assert [r["id"] for r in read(tmp_path / "reviewed.jsonl")] == ["gen-0-0", "gen-0-3"]
    assert len(read(tmp_path / "feedback.jsonl")) == 3


def test_edit_in_the_editor(tmp_path):
    script = tmp_path / "editor.py"
    script.write_text("import json, sys\npath = sys.argv[1]\nrecord = json.load(open(path, encoding='utf-8'))\n"
                      "record['output'] = '4'\njson.dump(record, open(path, 'w', encoding='utf-8'))\n", encoding="utf-8")
    editor = f'"{sys.executable}" "{script}"'
    result = review(tmp_path, "a\ne\narithmetic\nq\n", env={"EDITOR": editor, "VISUAL": editor})
    assert result.exit_code == 0, result.output
    reviewed = read(tmp_path / "reviewed.jsonl")
    assert [(r["id"], r["output"]) for r in reviewed][:2] == [("gen-0-0", "Red."), ("gen-0-1", "4")]
    assert read(tmp_path / "feedback.jsonl")[1]["better"]["output"] == "4"


def test_sample_reviews_a_seeded_subset(tmp_path):
    result = review(tmp_path, "a\na\n", "--sample", "2", "--seed", "3")
    assert result.exit_code == 0 and "reviewed 2 of 4" in result.output
    shown = [line for line in result.output.splitlines() if line.startswith("[")]
    (tmp_path / "feedback.jsonl").unlink()
    again = review(tmp_path, "a\na\n", "--sample", "2", "--seed", "3")
    assert [line for line in again.output.splitlines() if line.startswith("[")] == shown
    assert [r["meta"]["review"]["verdict"] for r in read(tmp_path / "reviewed.jsonl")].count("unreviewed") == 2


def test_review_refuses_to_overwrite_its_input(tmp_path):
    source = write(tmp_path / "gen.jsonl", RECORDS)
    result = CliRunner().invoke(cli, ["review", source, "--feedback", str(tmp_path / "f.jsonl"), "-o", source])
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: output {source} is also an input; write to a new file "
                                      "(inputs are never overwritten)")


def test_auto_review_repairs_unreadable_verdicts_and_never_rejects_them(fake_llm, llm_env, tmp_path):
    verdicts = {"Red.": '{"score": 5, "reason": "correct"}',
                "5": 'Verdict:\n```json\n{"score": 1, "reason": "2 + 2 is 4, not 5",}\n```',
                "Sure! Hello.": "Score: 2. Opens with filler.",
                "Paris is the capital.": "I cannot judge this."}

    def judge(body, index):
        if len(body["messages"]) > 1:  # the repair request: Paris stays unreadable, the rest never get here
            return Reply("Still no idea.")
        prompt = body["messages"][0]["content"]
        return Reply(next(v for k, v in verdicts.items() if f'"output": "{k}"' in prompt))

    fake_llm.handler = judge
    result = review(tmp_path, "", "--auto", "--base-url", fake_llm.url, "--model", "judge-model",
                    "--rejects", str(tmp_path / "rejected.jsonl"))
    assert result.exit_code == 0, result.output
    assert "judged 4 of 4: accepted 1, rejected 2, undecided 1 (scores 1: 1, 2: 1, 5: 1)" in result.output
    reviewed = read(tmp_path / "reviewed.jsonl")
    assert [(r["id"], r["meta"]["review"]) for r in reviewed] == [
        ("gen-0-0", {"verdict": "accepted", "by": "judge"}), ("gen-0-3", {"verdict": "unreviewed"})]
    assert len(fake_llm.requests) == 5  # four verdicts and one repair
    assert "could not be read" in fake_llm.requests[4]["messages"][2]["content"]
    feedback = read(tmp_path / "feedback.jsonl")
    assert [(f["id"], f["verdict"], f.get("reason"), f["source"], f["score"]) for f in feedback] == [
        ("gen-0-0", "accepted", "correct", "judge", 5), ("gen-0-1", "rejected", "2 + 2 is 4, not 5", "judge", 1),
        ("gen-0-2", "rejected", "Opens with filler", "judge", 2)]
    assert [(r["source"], r["reason"]) for r in read(tmp_path / "rejected.jsonl")] == [
        ("gen-0-1", "judge_rejected"), ("gen-0-2", "judge_rejected")]
    prompt = fake_llm.requests[0]["messages"][0]["content"]
    assert "Rubric (score 1-5)" in prompt and fake_llm.requests[0]["temperature"] == 0.0
    # a rerun judges only the undecided record, from the cache, and adds no feedback line twice
    sent = len(fake_llm.requests)
    again = review(tmp_path, "", "--auto", "--base-url", fake_llm.url, "--model", "judge-model")
    assert again.exit_code == 1, again.output  # what it judged stayed undecided
    assert "judged 1 of 4 (3 decided earlier, skipped)" in again.output
    assert len(fake_llm.requests) == sent and read(tmp_path / "feedback.jsonl") == feedback


def test_auto_review_with_a_judge_that_returns_garbage_loses_no_record(fake_llm, llm_env, tmp_path):
    fake_llm.handler = lambda body, index: Reply("<think>hmm</think> I would rate it highly!")
    result = review(tmp_path, "", "--auto", "--base-url", fake_llm.url, "--model", "judge-model")
    assert result.exit_code == 1, result.output
    assert "Error: no verdict could be read; all 4 records were left undecided" in result.output
    assert [r["id"] for r in read(tmp_path / "reviewed.jsonl")] == [r["id"] for r in RECORDS]
    assert not (tmp_path / "feedback.jsonl").exists() or read(tmp_path / "feedback.jsonl") == []


def test_auto_review_against_a_dead_endpoint_is_an_error_and_writes_nothing(llm_env, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "config.yaml"
    config.write_text("llm:\n  max_retries: 0\n", encoding="utf-8")
    result = review(tmp_path, "", "--auto", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "judge-model",
                    "--config", str(config))
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: the judge endpoint http://127.0.0.1:{port}/v1 answered none of 4 requests")
    assert not (tmp_path / "reviewed.jsonl").exists() and not (tmp_path / "feedback.jsonl").exists()


def test_auto_only_options_need_auto(tmp_path):
    result = review(tmp_path, "", "--min-score", "3")
    assert result.exit_code == 2 and result.output.strip() == "Error: --min-score and --prompt are for --auto reviews"


def test_parse_verdict_on_noisy_and_garbage_replies():
    assert parse_verdict('{"score": "4", "reason": "fine"}').score == 4
    assert parse_verdict('{"score": 4.6}').score == 5
    assert parse_verdict('{"score": 9, "reason": "x"}').score is None
    assert parse_verdict("").score is None and parse_verdict(None).score is None
    assert parse_verdict("no idea").reason.startswith("unreadable judge reply")
