"""The README's seed workflow end to end: generate 20, review in the terminal, generate more with the feedback.

Everything runs through the CLI against a real local server that plants faults (garbage replies,
code with Python lists, reasoning before the JSON). The test reads every request body the server
received and the files the workflow leaves behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fakellm import Reply, invent_items

from datacraft.cli import cli

SEEDS = str(Path(__file__).parent.parent / "fixtures" / "generate" / "seeds_en.jsonl")
FEEDBACK_MARK = "Mistakes found in earlier generations"


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def faulty(body: dict, index: int) -> Reply:
    """Mostly good replies; every 7th is garbage, every 5th wraps its items in reasoning and a code task."""
    items = invent_items(body.get("seed", index) + 1000 * len(body["messages"]), 5)
    if index % 7 == 3:
        return Reply("I'm sorry, I can't help with that [today].")
    if index % 5 == 2:
        code = {"instruction": f"Write Python that sorts a list, variant {index}.", "input": "",
                "output": "```python\nprint(sorted([3, 1, 2]))\n```\nThis prints [1, 2, 3]."}
        draft = json.dumps({"instruction": "draft", "output": "draft"})
        return Reply(f"<think>Let me try {draft} first.</think>\n```json\n" +
                     json.dumps({"items": [code, *items[:4]]}) + "\n```")
    return Reply(json.dumps({"items": items}))


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_review_decisions_reach_the_dataset_and_every_prompt(fake_llm, llm_env, tmp_path):
    fake_llm.handler = faulty
    gen, feedback = str(tmp_path / "generated.jsonl"), str(tmp_path / "feedback.jsonl")
    llm = ["--base-url", fake_llm.url, "--model", "fake-model", "--concurrency", "4"]
    first = run("generate", "--seeds", SEEDS, "-n", "20", "-o", gen, *llm)
    assert first.exit_code == 0, first.output
    round_one = read(Path(gen))
    assert len(round_one) == 20
    assert any("sorted([3, 1, 2])" in r["output"] for r in round_one)  # the code task survived parsing
    assert not any(r["instruction"] == "draft" for r in round_one)  # the reasoning's draft did not

    # review: reject 4 (two reasons), edit 1, accept 10, then quit: 5 stay undecided
    rejected = {round_one[i]["id"] for i in (1, 4, 7, 9)}
    edited = round_one[2]
    answers = []
    for i in range(15):
        if round_one[i]["id"] in rejected:
            answers.append("r\n" + ("answer too vague\n" if i < 5 else "1\n"))
        elif i == 2:
            answers.append("i\n\n\nA corrected, precise answer.\nanswer was wrong\n")
        else:
            answers.append("a\n")
    answers.append("q\n")
    reviewed = run("review", gen, "--feedback", feedback, "-o", str(tmp_path / "reviewed.jsonl"),
                   "--rejects", str(tmp_path / "review_rejects.jsonl"), stdin="".join(answers))
    assert reviewed.exit_code == 0, reviewed.output
    assert "reviewed 15 of 20: accepted 10, edited 1, rejected 4" in reviewed.output
    after_review = read(tmp_path / "reviewed.jsonl")
    assert len(after_review) == 16 and not rejected & {r["id"] for r in after_review}
    assert [r["meta"]["review"]["verdict"] for r in after_review].count("unreviewed") == 5

    sent_before = len(fake_llm.requests)
    second = run("generate", "--seeds", SEEDS, "-n", "60", "-o", gen, "--feedback", feedback,
                 "--round-size", "20", "--rejects", str(tmp_path / "rejects.jsonl"), *llm)
    assert second.exit_code == 0, second.output

    final = read(Path(gen))
    assert len(final) == 60
    ids = {r["id"] for r in final}
    assert not rejected & ids  # none of the reviewer's rejects
    fixed = next(r for r in final if r["id"] == edited["id"])
    assert fixed["output"] == "A corrected, precise answer." and fixed["meta"]["review"]["verdict"] == "edited"
    verdicts = [r["meta"]["review"]["verdict"] for r in final]
    assert verdicts.count("accepted") == 10 and verdicts.count("unreviewed") == 49
    rejects = read(tmp_path / "rejects.jsonl")
    review_rejects = [r for r in rejects if r["stage"] == "review"]
    assert {r["source"] for r in review_rejects} == rejected
    assert {r["detail"] for r in review_rejects} == {"answer too vague"}
    assert {r["reason"] for r in rejects} >= {"similar_to_earlier", "rejected_in_review"}
    assert any(len(body["messages"]) == 3 for body in fake_llm.requests)  # garbage replies were repaired

    # no request after the review shows a rejected record, or the edited one's old answer, as a good example
    bad_texts = [r["output"] for r in round_one if r["id"] in rejected] + [edited["output"]]
    good_texts = [r["output"] for r in round_one if r["id"] not in rejected and r["id"] != edited["id"]][:15]
    later = [body["messages"][0]["content"] for body in fake_llm.requests[sent_before:]
             if len(body["messages"]) == 1]
    assert len(later) >= 10
    shown_good = 0
    for prompt in later:
        assert FEEDBACK_MARK in prompt
        examples, lessons = prompt.split(FEEDBACK_MARK, 1)
        for text in bad_texts:
            assert json.dumps(text)[1:-1][:60] not in examples
        assert "answer too vague" in lessons and "answer was wrong" in lessons
        shown_good += any(json.dumps(text)[1:-1][:60] in examples for text in good_texts)
    assert shown_good > 0  # accepted records are shown as earlier examples
    assert "A corrected, precise answer." in "".join(later)
