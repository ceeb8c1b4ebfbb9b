"""`generate --kind preference`: candidate answers at two temperatures, ranked by the judge, against a real local server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakellm import FakeLLM, Reply

from datacraft.cli import cli
from datacraft.generate.preference import Verdict, parse_verdict, prompt_messages
from datacraft.records import to_form

SEEDS = str(Path(__file__).parent.parent / "fixtures" / "generate" / "seeds_en.jsonl")
SEED_COUNT = 12


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def generate(server: FakeLLM, out: Path, *extra: str, seeds: str = SEEDS):
    return CliRunner().invoke(cli, ["generate", "--seeds", seeds, "--kind", "preference", "-o", str(out),
                                    "--rejects", str(out.with_suffix(".rejects.jsonl")), "--base-url", server.url,
                                    "--model", "fake-model", *extra])


def judged(verdicts):
    """A handler: candidates say which temperature wrote them; the judge's replies come from `verdicts(labels, attempt)`."""
    def handler(body, index):
        messages = body["messages"]
        first = next(m["content"] for m in messages if m["role"] == "user")
        if "\nCandidate A:\n" in first:
            labels = re.findall(r'\nCandidate ([A-Z]):\n"""\n(.*?)\n"""', first, re.DOTALL)
            attempt = sum(m["role"] == "assistant" for m in messages)
            return Reply(verdicts(labels, attempt))
        return Reply(f"answer written at temperature {body['temperature']} to: {messages[-1]['content'][:40]}")
    return handler


def cool_wins(labels, attempt):
    """The judge prefers the answer written at temperature 0.3, wherever the shuffle put it."""
    return json.dumps({"ratings": [{"candidate": label, "score": 9 if "temperature 0.3" in text else 3,
                                    "rationale": "precise" if "0.3" in text else "loose"} for label, text in labels],
                       "rationale": "the cooler answer is more precise"})


def test_one_pair_per_prompt_with_the_judges_scores_and_rationale(llm_env, tmp_path):
    with FakeLLM(judged(cool_wins)) as server:
        result = generate(server, tmp_path / "pairs.jsonl", "-n", "8")
        bodies = list(server.requests)
    assert result.exit_code == 0, result.output
    pairs = read(tmp_path / "pairs.jsonl")
    seeds = read(Path(SEEDS))
    assert [p["instruction"] for p in pairs] == [s["instruction"] for s in seeds[:8]]
    for pair in pairs:
        assert pair["chosen"].startswith("answer written at temperature 0.3")
        assert pair["rejected"].startswith("answer written at temperature 1.0")
        pref = pair["meta"]["preference"]
        assert pref["chosen"] == {"model": "fake-model", "temperature": 0.3, "score": 9.0}
        assert pref["rejected"] == {"model": "fake-model", "temperature": 1.0, "score": 3.0}
        assert pref["rationale"] == "the cooler answer is more precise" and pref["judge_attempts"] == 1
        assert [(c["temperature"], c["rationale"]) for c in pref["candidates"]] == [(0.3, "precise"), (1.0, "loose")]
        assert pair["meta"]["kind"] == "preference" and "output" not in pair
    judge_prompts = [b["messages"][0]["content"] for b in bodies if "\nCandidate A:\n" in b["messages"][0]["content"]]
    assert len(judge_prompts) == 8 and all("Rate each candidate answer" in p for p in judge_prompts)
    first_labels = {re.search(r'Candidate A:\n"""\nanswer written at temperature (\S+)', p)[1] for p in judge_prompts}
    assert first_labels == {"0.3", "1.0"}  # the order is shuffled per prompt, against position bias
    assert {b["temperature"] for b in bodies if "response_format" not in b} == {0.3, 1.0}
    assert "top reject reasons" not in result.output


def test_a_tie_is_judged_again_then_the_prompt_is_rejected_with_a_reason(llm_env, tmp_path):
    def tie_once(labels, attempt):  # prompts whose seed mentions "sentence" tie for ever, the rest once
        forever = any("sentence" in text for _, text in labels)
        if attempt == 0 or forever:
            return json.dumps({"ratings": [{"candidate": label, "score": 5} for label, _ in labels]})
        return cool_wins(labels, attempt)

    with FakeLLM(judged(tie_once)) as server:
        result = generate(server, tmp_path / "pairs.jsonl", "-n", "100")
        retries = [b["messages"][-1]["content"] for b in server.requests if len(b["messages"]) > 1]
    assert result.exit_code == 0, result.output
    assert "stopped: every seed prompt has its preference pair (or its reject)" in result.output
    pairs, rejects = read(tmp_path / "pairs.jsonl"), read(tmp_path / "pairs.rejects.jsonl")
    assert len(pairs) + len(rejects) == SEED_COUNT  # totals balance: every prompt is a pair or a reject
    assert rejects and {r["reason"] for r in rejects} == {"judge_tie"}
    assert all(p["meta"]["preference"]["judge_attempts"] == 2 for p in pairs)
    assert rejects[0]["detail"] == ("3 verdicts, none usable: every candidate scored 5; every candidate scored 5; "
                                    "every candidate scored 5")
    assert rejects[0]["record"]["instruction"] in {s["instruction"] for s in read(Path(SEEDS))}
    assert "give the better one the higher score" in retries[0]


def test_an_unreadable_verdict_is_retried_then_rejected(llm_env, tmp_path):
    with FakeLLM(judged(lambda labels, attempt: "I think A is better." if attempt < 5 else "")) as server:
        result = generate(server, tmp_path / "pairs.jsonl", "-n", "3", "--temperatures", "0.3,1.0,1.4")
    assert result.exit_code == 1  # nothing useful was produced
    rejects = read(tmp_path / "pairs.rejects.jsonl")
    assert len(rejects) == SEED_COUNT and {r["reason"] for r in rejects} == {"judge_unparseable"}
    assert 'no {"ratings": [...]} object in the verdict' in rejects[0]["detail"]
    assert rejects[0]["raw"] == "I think A is better."


def test_identical_candidates_are_rejected_without_asking_the_judge(llm_env, tmp_path):
    with FakeLLM(lambda body, index: Reply("The same answer.")) as server:
        result = generate(server, tmp_path / "pairs.jsonl", "-n", "2")
        judged_any = any("\nCandidate A:\n" in b["messages"][0]["content"] for b in server.requests)
    assert result.exit_code == 1 and not judged_any
    assert {r["reason"] for r in read(tmp_path / "pairs.rejects.jsonl")} == {"identical_candidates"}


def test_a_budget_stop_mid_prompt_resumes_to_the_same_pairs(llm_env, tmp_path):
    def run(server, out, *extra):
        return generate(server, out, "-n", "6", "--concurrency", "1", *extra)

    with FakeLLM(kinds=True) as server:
        reference = tmp_path / "reference" / "pairs.jsonl"
        assert run(server, reference).exit_code == 0
        resumed = tmp_path / "resumed" / "pairs.jsonl"
        first = run(server, resumed, "--max-requests", "4")  # prompt 0's two candidates and judge, half of prompt 1
        assert "stopped: hit --max-requests" in first.output
        assert run(server, resumed).exit_code == 0
    assert read(resumed) == read(reference)
    assert read(resumed.with_suffix(".rejects.jsonl")) == read(reference.with_suffix(".rejects.jsonl"))


def test_pairs_export_to_the_ranking_forms(llm_env, tmp_path):
    with FakeLLM(kinds=True) as server:
        assert generate(server, tmp_path / "pairs.jsonl", "-n", "2").exit_code == 0
    pair = read(tmp_path / "pairs.jsonl")[0]
    shared = to_form(pair, "sharegpt")
    assert shared["chosen"]["from"] == "gpt" and shared["conversations"][-1]["from"] == "human"
    assert set(to_form(pair, "alpaca")) >= {"instruction", "chosen", "rejected"}


def test_bad_temperatures_are_refused_before_any_request(fake_llm, llm_env, tmp_path):
    for value, message in (("0.5", "--kind preference needs at least 2 candidates to compare"),
                           ("0.5,x", "expected numbers separated by commas"),
                           ("0.5,3", "temperatures must lie between 0 and 2")):
        result = generate(fake_llm, tmp_path / "p.jsonl", "--temperatures", value)
        assert result.exit_code == 2 and message in result.output, result.output
    assert not fake_llm.requests


def test_the_candidates_see_the_seeds_system_prompt_and_earlier_turns():
    seed = {"instruction": "And in Celsius?", "input": "", "output": "37.", "system": "Be brief.",
            "history": [["Body temperature in Fahrenheit?", "98.6."]]}
    assert prompt_messages(seed) == [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Body temperature in Fahrenheit?"},
                                     {"role": "assistant", "content": "98.6."},
                                     {"role": "user", "content": "And in Celsius?"}]


@pytest.mark.parametrize(("reply", "expected"), [
    ('{"ratings": [{"candidate": "A", "score": 8}, {"candidate": "B", "score": 2}], "rationale": "A"}', [8.0, 2.0]),
    ('Thinking...\n```json\n{"ratings": {"A": {"score": "7", "rationale": "ok"}, "b": 9,},}\n```', [7.0, 9.0]),
    ('{"scores": {"A": 1, "B": 10}}', [1.0, 10.0]),
    ("", "the verdict was empty"),
    ("A is better than B.", 'no {"ratings": [...]} object in the verdict'),
    ('{"ratings": [{"candidate": "A", "score": "high"}, {"candidate": "B", "score": 1}]}',
     "candidate A: the score 'high' is not a number"),
    ('{"ratings": [{"candidate": "A", "score": 3}]}', "no score for candidate B"),
])
def test_parse_verdict_on_clean_noisy_empty_and_garbage_replies(reply, expected):
    verdict = parse_verdict(reply, ["A", "B"])
    assert (verdict.scores if isinstance(verdict, Verdict) else verdict) == expected


def test_a_failed_candidate_request_rejects_the_prompt_with_the_failure(llm_env, tmp_path):
    first = read(Path(SEEDS))[0]["instruction"]

    def handler(body, index):
        if body.get("temperature") == 1.0 and body["messages"][-1]["content"] == first:
            return Reply(status=400, body={"error": {"message": "context too long", "type": "invalid_request_error"}})
        return judged(cool_wins)(body, index)

    with FakeLLM(handler) as server:
        result = generate(server, tmp_path / "pairs.jsonl", "-n", "3")
    assert result.exit_code == 0, result.output
    rejects = read(tmp_path / "pairs.rejects.jsonl")
    assert len(rejects) == 1 and "context too long" in rejects[0]["detail"]
    assert rejects[0]["record"]["instruction"] == first and rejects[0]["source"] == "request:0"
    assert len(read(tmp_path / "pairs.jsonl")) == 3
    manifest = json.loads((tmp_path / "pairs.manifest.json").read_text())
    assert manifest["usage_total"]["calls"] == 1 + 3 * 3  # the candidate that came back is counted


def test_options_of_another_kind_are_refused(fake_llm, llm_env, tmp_path):
    out = str(tmp_path / "o.jsonl")
    base = ["generate", "--seeds", SEEDS, "-o", out, "--base-url", fake_llm.url, "--model", "m"]
    for extra, message in ((["--turns", "2-3"], "--turns is for --kind multi-turn (this run is --kind single)"),
                           (["--kind", "multi-turn", "--temperatures", "0,1"], "--temperatures is for --kind preference"),
                           (["--kind", "preference", "--prompt", SEEDS], "--kind preference answers the seeds' own prompts")):
        result = CliRunner().invoke(cli, [*base, *extra])
        assert result.exit_code == 2 and message in result.output, result.output
    assert not fake_llm.requests


def test_a_fixed_llm_temperature_is_refused_for_preference(fake_llm, llm_env, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("llm:\n  temperature: 0.7\n", encoding="utf-8")
    result = generate(fake_llm, tmp_path / "p.jsonl", "--config", str(config))
    assert result.exit_code == 2 and "would give every candidate the same temperature" in result.output
    assert not fake_llm.requests


def test_models_write_candidates_and_the_judge_model_ranks_them(llm_env, tmp_path):
    def handler(body, index):  # the small model writes worse answers; the judge prefers the big one's
        first = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if "\nCandidate A:\n" in first:
            assert body["model"] == "judge-model"
            blocks = re.findall(r'\nCandidate ([A-Z]):\n"""\n(.*?)\n"""', first, re.DOTALL)
            return Reply(json.dumps({"ratings": [{"candidate": label, "score": 8 if "big-model" in text else 2}
                                                 for label, text in blocks]}))
        return Reply(f"answer by {body['model']} at {body['temperature']}")

    with FakeLLM(handler) as server:
        result = generate(server, tmp_path / "pairs.jsonl", "-n", "3", "--models", "big-model,small-model",
                          "--temperatures", "0.7", "--model", "judge-model")
        writers = {b["model"] for b in server.requests if "\nCandidate A:\n" not in b["messages"][0]["content"]}
        again = generate(server, tmp_path / "p2.jsonl", "--models", "a,a")
    assert again.exit_code == 2 and "--models names a model twice" in again.output
    assert result.exit_code == 0, result.output
    assert writers == {"big-model", "small-model"}
    pairs = read(tmp_path / "pairs.jsonl")
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [("answer by big-model at 0.7", "answer by small-model at 0.7")] * 3
    assert pairs[0]["meta"]["preference"]["chosen"] == {"model": "big-model", "temperature": 0.7, "score": 8.0}
    manifest = json.loads((tmp_path / "pairs.manifest.json").read_text())
    assert manifest["usage"]["requests"] >= 9  # the writers' requests are counted with the judge's
