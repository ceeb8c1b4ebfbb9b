"""Paraphrase and the judge through a real OpenAI-compatible server on 127.0.0.1: prompts, spans, rejects, cache."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fakellm import Reply

from datacraft.augment import AugmentConfig, augment_file
from datacraft.augment.judge import parse_judgement
from datacraft.cli import cli
from datacraft.llm import resolve_llm_config

RECORDS = [
    {"id": "zh", "instruction": "请写一个简短的故事，主角是 {{name}}。", "input": "",
     "output": "从前有一个叫 {{name}} 的孩子，他每天 7 点起床，访问 https://example.com 学习。"},
    {"id": "en", "instruction": "Write a short poem about {name}.", "input": "",
     "output": "Here is a short poem: {name} loves 3 good apples."},
    {"id": "lost", "instruction": "Describe a good day with {name}.", "input": "", "output": "A good day starts at 7."},
]
SWAPS = {"简短": "简要", "故事": "小故事", "short": "brief", "good": "fine", "Write": "Compose", "Describe": "Depict"}


def paraphrase_or_judge(body: dict, index: int) -> Reply:
    """Paraphrase: swap a few words (and drop the sentinels of 'good day'); judge: no when a copy says 'fine'."""
    content = body["messages"][-1]["content"]
    if content.startswith("Rewrite each text"):
        texts = json.loads(content.strip().splitlines()[-1])
        out = []
        for text in texts:
            for old, new in SWAPS.items():
                text = text.replace(old, new)
            out.append(text.replace("⟦1⟧", "") if "fine day" in text else text)
        return Reply(json.dumps({"paraphrases": out}, ensure_ascii=False))
    assert content.startswith("You check copies"), content
    copy = content.split("Copy:", 1)[1]
    if "fine" in copy:
        return Reply('```json\n{"same_meaning": false, "natural": true, "reason": "fine is not good",}\n```')
    return Reply('{"same_meaning": true, "natural": true, "reason": "same request, fluent"}')


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    return path


def llm_for(server):
    return resolve_llm_config({"max_retries": 1, "backoff_base": 0.01, "timeout": 10}, base_url=server.url,
                              model="fake", env={})


def run(data, tmp_path, server, name="out.jsonl", **config):
    out, rejects = tmp_path / name, tmp_path / f"{name}.rejects.jsonl"
    result = augment_file([str(data)], str(out), rejects=str(rejects), config=AugmentConfig(**config), llm=llm_for(server))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    bad = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    return result, rows, bad


def test_paraphrase_keeps_spans_and_rejects_a_copy_that_lost_one(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = paraphrase_or_judge
    result, rows, bad = run(data, tmp_path, fake_llm, methods=["paraphrase"])
    copies = {r["meta"]["augmented_from"]: r for r in rows if "augmented_from" in r.get("meta", {})}
    assert set(copies) == {"zh", "en"}
    assert copies["zh"]["instruction"] == "请写一个简要的小故事，主角是 {{name}}。"
    assert "7 点" in copies["zh"]["output"] and "https://example.com" in copies["zh"]["output"]
    assert copies["en"]["instruction"] == "Compose a brief poem about {name}." and copies["en"]["id"] == "en#para1"
    assert [(b["source"], b["reason"]) for b in bad] == [("lost", "protected_span_lost")]
    assert result["methods"]["paraphrase"] == {"produced": 2, "rejected": 1, "reasons": {"protected_span_lost": 1}}
    prompts = [body["messages"][-1]["content"] for body in fake_llm.requests]
    assert all("⟦1⟧" in p and "{name}" not in p for p in prompts if "poem" in p)  # spans go masked


def test_the_judge_sends_its_no_to_the_rejects_with_the_reason_and_caches(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = paraphrase_or_judge
    config = {"methods": ["synonym", "paraphrase"], "judge": {"enabled": True}}
    result, rows, bad = run(data, tmp_path, fake_llm, **config)
    judged = [b for b in bad if b["reason"] == "judge_rejected"]
    assert judged and all(b["detail"] == "meaning changed: fine is not good" and "fine" in json.dumps(b["record"])
                          for b in judged)
    assert all(r["meta"]["augment"]["judge"] == "same request, fluent" for r in rows if "augmented_from" in r.get("meta", {}))
    kept = len(rows) - len(RECORDS)
    assert result["kept"] == len(rows) and result["read"] == 3
    assert sum(m["produced"] for m in result["methods"].values()) == kept
    asked = len(fake_llm.requests)
    assert result["usage"]["requests"] == asked
    # The same run again: every paraphrase and verdict comes from the cache, nothing is sent.
    again, rows_again, _ = run(data, tmp_path, fake_llm, name="out.jsonl", **config)
    assert len(fake_llm.requests) == asked and rows_again == rows and again["usage"]["cached"] == asked


def test_judge_and_paraphrase_need_an_endpoint(tmp_path, data):
    result = CliRunner().invoke(cli, ["augment", str(data), "-o", str(tmp_path / "o.jsonl"), "--judge"])
    assert result.exit_code == 2 and "Error: " in result.output and "--model" in result.output
    result = CliRunner().invoke(cli, ["augment", str(data), "-o", str(tmp_path / "o.jsonl"), "--method", "paraphrase"])
    assert result.exit_code == 2 and "--model" in result.output


@pytest.mark.parametrize(("reply", "ok"), [
    ('{"same_meaning": true, "natural": true, "reason": "fine"}', True),
    ('Sure! ```json\n{"same_meaning": "yes", "natural": "no", "reason": "stiff"}\n```', False),
    ("No, the copy asks for something else.", False),
    ("", None),
    ("<html>502 Bad Gateway</html>", None),
])
def test_judge_replies_clean_noisy_empty_and_garbage(reply, ok):
    assert parse_judgement(reply).ok is ok


def test_a_request_budget_stops_sending_and_rejects_what_it_left_unchecked(data, tmp_path, fake_llm, llm_env):
    from datacraft.llm import Budget

    fake_llm.handler = paraphrase_or_judge
    out, rejects = tmp_path / "b.jsonl", tmp_path / "b.rejects.jsonl"
    config = AugmentConfig(methods=["paraphrase"], judge={"enabled": True})
    result = augment_file([str(data)], str(out), rejects=str(rejects), config=config, llm=llm_for(fake_llm),
                          budget=Budget(max_requests=2))
    bad = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert len(fake_llm.requests) == 2 and result["usage"]["requests"] == 2
    reasons = {b["reason"] for b in bad}
    assert "budget_exhausted" in reasons
    assert result["read"] == 3 and result["kept"] == 3  # the originals; every copy left unchecked is rejected
