"""`datacraft generate` end to end: the real CLI, the real `openai` client, a real local server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakellm import SECRET, Reply, invent_items

from datacraft.cli import cli
from datacraft.generate import load_feedback

FIXTURES = Path(__file__).parent.parent / "fixtures" / "generate"
SEEDS = str(FIXTURES / "seeds_en.jsonl")


def generate(server, tmp_path, *args: str, seeds: str | None = SEEDS, out: str = "gen.jsonl"):
    base = ["generate", "-o", str(tmp_path / out), "--base-url", server.url, "--model", "fake-model",
            "--concurrency", "4"]
    if seeds:
        base += ["--seeds", seeds]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def items_reply(seed: int, count: int = 5) -> str:
    return json.dumps({"items": invent_items(seed, count)})


def test_generate_writes_n_unique_records_with_provenance(fake_llm, llm_env, tmp_path):
    result = generate(fake_llm, tmp_path, "-n", "12")
    assert result.exit_code == 0, result.output
    records = read(tmp_path / "gen.jsonl")
    assert len(records) == 12 and len({r["id"] for r in records}) == 12
    first = records[0]
    assert set(first) == {"instruction", "input", "output", "id", "meta"}
    assert first["meta"]["model"] == "fake-model" and first["meta"]["round"] == 1
    assert first["meta"]["feedback_version"] is None and len(first["meta"]["seeds"]) == 3
    assert len(fake_llm.requests) == 3  # 5 items per reply: 3 requests for 12
    assert sorted(body["seed"] for body in fake_llm.requests) == [0, 1, 2]  # one `seed` per request number
    body = fake_llm.requests[0]
    assert body["response_format"] == {"type": "json_object"} and body["temperature"] == 1.0
    assert "accepted 15 (wrote 12 of -n 12" in result.output and "stopped: reached -n" in result.output
    manifest = json.loads((tmp_path / "gen.manifest.json").read_text())
    assert manifest["llm"]["model"] == "fake-model" and manifest["rounds"][0]["accepted"] == 15
    assert manifest["stopped"] == "target" and manifest["sources"]["lang"] == "en"


def test_the_api_key_never_reaches_files_or_output(fake_llm, llm_env, tmp_path):
    result = generate(fake_llm, tmp_path, "-n", "5", "--rejects", str(tmp_path / "rejects.jsonl"))
    assert result.exit_code == 0
    assert fake_llm.headers[0]["authorization"] == f"Bearer {SECRET}"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "cache.sqlite" for p in written) and any(p.name == "journal.jsonl" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.output


def test_noisy_replies_are_parsed_and_bad_items_rejected_with_reasons(fake_llm, llm_env, tmp_path):
    seed_copy = {"instruction": "Explain why the sky looks blue during the day.", "input": "", "output": "Light scatters."}
    good = invent_items(101, 3)
    fake_llm.script = [
        Reply("Sure! Here you go:\n```json\n" + json.dumps({"items": good[:2] + [seed_copy]}) + "\n```"),
        Reply(json.dumps({"items": [good[2], {"instruction": "No answer here"}, {"instruction": "x", "output": ""}]})
              [:-2] + ",]}"),  # a trailing comma
        Reply(json.dumps({"items": invent_items(102, 3)})[:-40], finish_reason="length"),
    ]
    rejects = tmp_path / "rejects.jsonl"
    result = generate(fake_llm, tmp_path, "-n", "5", "--batch-size", "3", "--concurrency", "1",
                      "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    reasons = [(r["reason"], r["source"]) for r in read(rejects)]
    assert ("similar_to_seed", "request:0") in reasons
    assert ("missing_field", "request:1") in reasons and ("empty_field", "request:1") in reasons
    assert ("truncated_item", "request:2") in reasons
    records = read(tmp_path / "gen.jsonl")
    assert [r["instruction"] for r in records[:3]] == [g["instruction"] for g in good]
    assert all(r["stage"] == "generate" for r in read(rejects))
    assert "top reject reasons:" in result.output and "similar_to_seed" in result.output


def test_an_unusable_reply_is_retried_once_with_the_parse_error(fake_llm, llm_env, tmp_path):
    fake_llm.script = [Reply("I'm sorry, here are some ideas: 1. cooking 2. travel"), Reply(items_reply(7))]
    result = generate(fake_llm, tmp_path, "-n", "5", "--concurrency", "1")
    assert result.exit_code == 0, result.output
    repair = fake_llm.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "could not be parsed: no JSON in the reply" in repair[2]["content"]
    records = read(tmp_path / "gen.jsonl")
    assert len(records) == 5 and all(r["meta"]["repaired"] for r in records)
    journal = read(tmp_path / "gen.jsonl.run" / "journal.jsonl")
    assert journal[2]["repair"] == {"error": "no JSON in the reply", "fixed": True}


def test_feedback_is_shown_as_counter_examples_and_versioned(fake_llm, llm_env, tmp_path):
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(json.dumps({"instruction": "Say hi", "output": "Sure! Hi", "reason": "filler opening"}) + "\n",
                        encoding="utf-8")
    first = load_feedback(str(feedback)).version
    assert generate(fake_llm, tmp_path, "-n", "10", "--feedback", str(feedback)).exit_code == 0
    prompt = fake_llm.requests[0]["messages"][0]["content"]
    assert '- filler opening. For example: "Say hi" answered "Sure! Hi"' in prompt
    with feedback.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"reason": "never use lists"}) + "\n")
    second = load_feedback(str(feedback)).version
    assert generate(fake_llm, tmp_path, "-n", "20", "--feedback", str(feedback)).exit_code == 0
    assert "- Rule: never use lists" in fake_llm.requests[-1]["messages"][0]["content"]
    records = read(tmp_path / "gen.jsonl")
    assert [r["meta"]["feedback_version"] for r in records] == [first] * 10 + [second] * 10
    assert [r["meta"]["round"] for r in records] == [1] * 10 + [2] * 10
    manifest = json.loads((tmp_path / "gen.manifest.json").read_text())
    assert [(r["round"], r["feedback_version"], r["feedback_entries"]) for r in manifest["rounds"]] == [
        (1, first, 1), (2, second, 2)]
    snapshots = tmp_path / "gen.jsonl.run" / "feedback"
    assert sorted(p.stem for p in snapshots.iterdir()) == sorted([first, second])


def test_rounds_start_small_and_later_rounds_see_earlier_items(fake_llm, llm_env, tmp_path):
    result = generate(fake_llm, tmp_path, "-n", "30", "--round-size", "10", "--rounds", "1")
    assert result.exit_code == 0 and "stopped: ran the requested rounds" in result.output
    assert len(read(tmp_path / "gen.jsonl")) == 10
    sent = len(fake_llm.requests)
    assert generate(fake_llm, tmp_path, "-n", "30", "--round-size", "10").exit_code == 0
    records = read(tmp_path / "gen.jsonl")
    assert len(records) == 30 and [r["meta"]["round"] for r in records[::10]] == [1, 2, 3]
    later = fake_llm.requests[sent]["messages"][0]["content"]
    assert "Examples generated earlier that were accepted:" in later
    assert any(r["instruction"] in later for r in records[:10])


def test_a_budget_stops_the_run_and_a_rerun_resumes_without_repeating(fake_llm, llm_env, tmp_path):
    result = generate(fake_llm, tmp_path, "-n", "20", "--max-requests", "2", "--concurrency", "1")
    assert result.exit_code == 0 and "stopped: hit --max-requests" in result.output
    assert len(read(tmp_path / "gen.jsonl")) == 10
    result = generate(fake_llm, tmp_path, "-n", "20", "--concurrency", "1")
    assert result.exit_code == 0
    records = read(tmp_path / "gen.jsonl")
    assert len(records) == 20 and len({r["instruction"] for r in records}) == 20
    assert [body["seed"] for body in fake_llm.requests] == [0, 1, 2, 3]


def test_a_finished_run_costs_nothing_to_rerun_and_restart_reuses_the_cache(fake_llm, llm_env, tmp_path):
    assert generate(fake_llm, tmp_path, "-n", "10").exit_code == 0
    before = read(tmp_path / "gen.jsonl")
    again = generate(fake_llm, tmp_path, "-n", "10")
    assert again.exit_code == 0 and "this run: 0 requests" in again.output and len(fake_llm.requests) == 2
    restarted = generate(fake_llm, tmp_path, "-n", "10", "--restart")
    assert restarted.exit_code == 0 and "(+2 from cache" in restarted.output
    assert read(tmp_path / "gen.jsonl") == before and len(fake_llm.requests) == 2


def test_chinese_seeds_get_the_chinese_prompt(llm_env, tmp_path):
    from fakellm import FakeLLM

    with FakeLLM(lang="zh") as server:
        result = generate(server, tmp_path, "-n", "5", seeds=str(FIXTURES / "seeds_zh.json"))
        assert result.exit_code == 0, result.output
        assert "你正在帮助构建一个高质量的指令微调数据集" in server.requests[0]["messages"][0]["content"]
    assert read(tmp_path / "gen.jsonl")[0]["meta"]["lang"] == "zh-Hans"


@pytest.mark.parametrize(("rows", "lang", "phrase"), [
    ([("請說明颱風是怎麼形成的。", "颱風是在溫暖的海面上形成的熱帶氣旋。"), ("這個句子該怎麼翻譯成英文？", "可以這樣翻譯。")],
     "zh-Hant", "你正在協助建立一個高品質的指令微調資料集"),
    ([("日本の首都はどこですか。", "東京です。"), ("俳句とは何ですか。", "五七五の短い詩です。")], "ja", "日本語で書くこと"),
    ([("한국의 수도는 어디인가요?", "서울입니다."), ("김치는 무엇인가요?", "한국의 전통 발효 음식입니다.")], "ko", "한국어로 쓰세요"),
    ([("Expliquez pourquoi le ciel est bleu pendant la journée.", "La lumière bleue est diffusée par l'atmosphère."),
      ("Donnez trois synonymes du mot heureux pour une rédaction.", "Joyeux, content et ravi.")],
     "other", "in the same language as the examples"),
])
def test_seeds_in_other_languages_get_their_own_prompt(fake_llm, llm_env, tmp_path, rows, lang, phrase):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": i, "input": "", "output": o}, ensure_ascii=False) + "\n"
                             for i, o in rows), encoding="utf-8")
    result = generate(fake_llm, tmp_path, "-n", "3", seeds=str(seeds))
    assert result.exit_code == 0, result.output
    assert phrase in fake_llm.requests[0]["messages"][0]["content"]
    assert read(tmp_path / "gen.jsonl")[0]["meta"]["lang"] == lang


def test_stanford_seed_tasks_work_and_few_seeds_warn(fake_llm, llm_env, tmp_path):
    result = generate(fake_llm, tmp_path, "-n", "5", seeds=str(FIXTURES / "stanford_seed_tasks.jsonl"))
    assert result.exit_code == 0
    assert "Warning: only 5 seed examples" in result.output
    shown = read(tmp_path / "gen.jsonl")[0]["meta"]["seeds"]
    assert len(shown) == 3 and all(s.startswith("task_") for s in shown)
    if "task_b" in shown:
        assert '"input": "Kenya", "output": "Nairobi"' in fake_llm.requests[0]["messages"][0]["content"]


def test_from_docs_asks_about_each_chunk_and_records_it(fake_llm, llm_env, tmp_path):
    docs = str(FIXTURES / "docs.jsonl")
    fake_llm.items_per_reply = 3
    result = generate(fake_llm, tmp_path, "-n", "100", "--from-docs", docs, seeds=None)
    assert result.exit_code == 0, result.output
    assert "stopped: every document chunk was used" in result.output
    records = read(tmp_path / "gen.jsonl")
    assert len(records) == 6 and {r["meta"]["doc_id"] for r in records} == {"tea", "bridge"}
    bridge = next(r for r in records if r["meta"]["doc_id"] == "bridge")
    assert bridge["meta"]["chunk"]["text"].startswith("赵州桥位于河北省赵县") and bridge["meta"]["lang"] == "zh-Hans"
    prompts = [b["messages"][0]["content"] for b in fake_llm.requests]
    # Requests run concurrently, so the server may see them in either order.
    english = [p for p in prompts if "Camellia sinensis" in p]
    chinese = [p for p in prompts if "请阅读下面的文段" in p]
    assert len(english) == 1 and len(chinese) == 1 and len(prompts) == 2


def test_options_are_checked_before_any_request(fake_llm, llm_env, tmp_path):
    def error(*args, seeds=SEEDS):
        result = generate(fake_llm, tmp_path, *args, seeds=seeds)
        assert result.exit_code == 2
        return result.output.strip().splitlines()[-1]

    assert error("-n", "5", seeds=None) == "Error: nothing to generate from: pass --seeds FILE or --from-docs FILE"
    assert error("--max-cost", "1", "--base-url", "https://llm.example.com/v1") == ("Error: --max-cost needs the price of model 'fake-model': add it under "
                                        "llm.prices in the config file (USD per 1M input and output tokens)")
    assert error("--seeds", SEEDS, "-n", "0").startswith("Error: options: n: Input should be greater than or equal to 1")
    (tmp_path / "gen.jsonl").write_text("{}\n")
    assert error("-n", "5").startswith(f"Error: {tmp_path / 'gen.jsonl'} exists but no unfinished generate run")
    bad = str(FIXTURES / "bad_seeds.jsonl")
    assert error("-o", str(tmp_path / "x.jsonl"), seeds=bad) == f"Error: {bad}:2: bad seed: output: expected a string, got number 3.5"
    assert fake_llm.requests == []


def test_config_file_sections_and_unknown_keys(fake_llm, llm_env, tmp_path):
    config = tmp_path / "gen.yaml"
    config.write_text(f"llm:\n  base_url: {fake_llm.url}\n  model: from-file\n"
                      "generate:\n  n: 4\n  batch_size: 2\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["generate", "--seeds", SEEDS, "-o", str(tmp_path / "g.jsonl"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert len(read(tmp_path / "g.jsonl")) == 4 and fake_llm.requests[0]["model"] == "from-file"
    config.write_text("generate:\n  batchsize: 2\n", encoding="utf-8")
    result = runner.invoke(cli, ["generate", "--seeds", SEEDS, "-o", str(tmp_path / "h.jsonl"), "--config", str(config)])
    assert result.exit_code == 2 and f"Error: {config}: generate: unknown key 'batchsize'" in result.output
    config.write_text("llm: {}\nmodels: {}\n", encoding="utf-8")
    result = runner.invoke(cli, ["generate", "--seeds", SEEDS, "-o", str(tmp_path / "h.jsonl"), "--config", str(config)])
    assert f"Error: {config}: unknown section 'models'" in result.output


def test_a_run_that_makes_no_progress_stops(fake_llm, llm_env, tmp_path):
    seeds = read(FIXTURES / "seeds_en.jsonl")
    fake_llm.handler = lambda body, index: Reply(json.dumps({"items": seeds[:3]}))
    config = tmp_path / "c.yaml"
    config.write_text("generate:\n  max_dry: 3\n", encoding="utf-8")
    result = generate(fake_llm, tmp_path, "-n", "5", "--config", str(config), "--concurrency", "1")
    assert result.exit_code == 1 and "stopped: many requests in a row gave no usable item" in result.output
    journal = read(tmp_path / "gen.jsonl.run" / "journal.jsonl")
    assert [e["k"] for e in journal if e["type"] == "request"] == [0, 1, 2] and "similar_to_seed" in result.output


def test_a_failing_endpoint_ends_with_an_error_and_keeps_what_was_accepted(fake_llm, llm_env, tmp_path):
    fake_llm.script = [Reply(items_reply(1))]
    fake_llm.handler = lambda body, index: Reply(status=500)
    config = tmp_path / "c.yaml"
    config.write_text("llm:\n  max_retries: 0\ngenerate:\n  max_failures: 2\n", encoding="utf-8")
    result = generate(fake_llm, tmp_path, "-n", "20", "--config", str(config), "--concurrency", "1")
    assert result.exit_code == 2
    assert "Error: 2 requests in a row failed; the last: http_500 after 1 attempts." in result.output
    assert len(read(tmp_path / "gen.jsonl")) == 5


def test_a_refused_key_is_a_clean_error(fake_llm, llm_env, tmp_path):
    fake_llm.script = [Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {SECRET}"}})]
    result = generate(fake_llm, tmp_path, "-n", "5")
    assert result.exit_code == 2 and "refused the API key" in result.output and "$OPENAI_API_KEY" in result.output
    assert SECRET not in result.output


def test_the_output_can_be_copied_while_the_journal_keeps_the_truth(fake_llm, llm_env, tmp_path):
    assert generate(fake_llm, tmp_path, "-n", "5").exit_code == 0
    shutil.copy(tmp_path / "gen.jsonl", tmp_path / "copy.jsonl")
    (tmp_path / "gen.jsonl").write_text("")  # a user truncated the output: the journal rebuilds it
    assert generate(fake_llm, tmp_path, "-n", "5").exit_code == 0
    assert read(tmp_path / "gen.jsonl") == read(tmp_path / "copy.jsonl")


@pytest.mark.parametrize("flag", ["--no-cache"])
def test_no_cache_asks_again(fake_llm, llm_env, tmp_path, flag):
    assert generate(fake_llm, tmp_path, "-n", "5", flag).exit_code == 0
    assert generate(fake_llm, tmp_path, "-n", "5", flag, "--restart").exit_code == 0
    assert len(fake_llm.requests) == 2 and not (tmp_path / "gen.jsonl.run" / "cache.sqlite").exists()


def test_max_cost_stops_the_run_near_the_budget(fake_llm, llm_env, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("llm:\n  prices:\n    fake-model: {input: 1000, output: 1000}\n", encoding="utf-8")
    result = generate(fake_llm, tmp_path, "-n", "100", "--max-cost", "2.5", "--config", str(config),
                      "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert "stopped: hit --max-cost" in result.output
    manifest = json.loads((tmp_path / "gen.manifest.json").read_text())
    per_request = manifest["usage"]["cost"] / manifest["usage"]["requests"]
    assert manifest["usage"]["cost"] < 2.5 + per_request  # at most the request in flight goes over
    assert 0.5 < per_request < 2.5 and manifest["usage"]["requests"] >= 2


def test_the_cost_cap_holds_across_resumes(fake_llm, llm_env, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("llm:\n  prices:\n    fake-model: {input: 1000, output: 1000}\n", encoding="utf-8")
    args = ("-n", "100", "--max-cost", "2.5", "--config", str(config), "--concurrency", "1")
    assert generate(fake_llm, tmp_path, *args).exit_code == 0
    sent = len(fake_llm.requests)
    again = generate(fake_llm, tmp_path, *args)
    assert again.exit_code == 0 and "stopped: hit --max-cost" in again.output
    assert len(fake_llm.requests) == sent  # the first run spent the cap: the resumed one sends nothing
    manifest = json.loads((tmp_path / "gen.manifest.json").read_text())
    assert manifest["usage_total"]["cost"] < 2.5 + manifest["usage_total"]["cost"] / sent


def test_a_run_that_stops_short_of_n_for_lack_of_usable_items_exits_non_zero(fake_llm, llm_env, tmp_path):
    fake_llm.handler = lambda body, index: Reply("no JSON here, sorry")
    config = tmp_path / "c.yaml"
    config.write_text("generate:\n  max_dry: 3\n  repair: false\n", encoding="utf-8")
    result = generate(fake_llm, tmp_path, "-n", "5", "--config", str(config), "--concurrency", "1")
    assert result.exit_code == 1
    assert ("Error: stopped with 0 of -n 5 records: many requests in a row gave no usable item (see the rejects)"
            in result.output)
    assert (tmp_path / "gen.manifest.json").exists()


def test_a_missing_key_or_bad_feedback_fails_before_anything_is_written(fake_llm, monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out = tmp_path / "gen.jsonl"
    result = CliRunner().invoke(cli, ["generate", "--seeds", SEEDS, "-o", str(out), "--model", "gpt-4o-mini"])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: no API key: set OPENAI_API_KEY (or point --base-url at a local "
                                     "server)")
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text('{"instruction": "x", "output": "y"}\n', encoding="utf-8")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    result = generate(fake_llm, tmp_path, "-n", "5", "--feedback", str(feedback))
    assert result.exit_code == 2
    assert result.output.strip() == f'Error: {feedback}:1: feedback entry has no "reason" (say why the example is bad)'
    assert list(tmp_path.iterdir()) == [feedback] and fake_llm.requests == []


def test_the_progress_bar_shows_accepted_rejected_requests_tokens_and_cost(capsys):
    from datacraft.cli.generate_cmd import _Bar

    bar = _Bar(10)
    bar.update({"accepted": 4, "rejected": 2, "requests": 3, "cached": 1, "prompt_tokens": 1000,
                "completion_tokens": 234, "cost": None})
    bar.update({"accepted": 12, "rejected": 2, "requests": 4, "cached": 1, "prompt_tokens": 1500,
                "completion_tokens": 300, "cost": 0.0123})
    bar.close()
    err = capsys.readouterr().err
    assert "rejected 2, requests 3+1 cached, tokens 1,234, cost ?" in err
    assert "10/10" in err and "tokens 1,800, cost $0.012" in err


def test_from_docs_rejects_ungrounded_and_wrong_language_pairs(fake_llm, llm_env, tmp_path):
    docs = str(FIXTURES / "docs.jsonl")

    def handler(body, index):
        prompt = body["messages"][0]["content"]
        passage = prompt.split('"""\n', 1)[1].split('\n"""', 1)[0]
        first = passage.split("。")[0] if "。" in passage else passage.split(". ")[0]
        zh = "。" in passage
        items = [{"instruction": "请概括这段资料的第一句话。" if zh else "What does the first sentence say?", "input": "",
                  "output": first},
                 {"instruction": "巴黎是哪个国家的首都？" if zh else "What is the capital of France?", "input": "",
                  "output": "巴黎是法国的首都，也是法国最大的城市。" if zh else "Paris is the capital and largest city of France."},
                 {"instruction": "Summarise the passage in English.", "input": "",
                  "output": "The passage describes things."} if zh else
                 {"instruction": "请用中文概括。", "input": "", "output": "这段文字介绍了茶叶的历史和种类。"}]
        return Reply(json.dumps({"items": items}, ensure_ascii=False))

    fake_llm.handler = handler
    rejects = tmp_path / "rejects.jsonl"
    result = generate(fake_llm, tmp_path, "-n", "100", "--from-docs", docs, "--rejects", str(rejects), seeds=None)
    assert result.exit_code == 0, result.output
    kept = read(tmp_path / "gen.jsonl")
    assert len(kept) == 2 and all(r["output"] in r["meta"]["chunk"]["text"] for r in kept)
    reasons = [r["reason"] for r in read(rejects)]
    assert reasons.count("ungrounded") == 2 and reasons.count("wrong_language") == 2
    detail = next(r["detail"] for r in read(rejects) if r["reason"] == "ungrounded")
    assert detail.startswith("only ") and detail.endswith("of the answer's words occur in its passage (need 50%)")


def test_from_docs_spreads_requests_over_documents_and_chunks(fake_llm, llm_env, tmp_path):
    docs = tmp_path / "docs.jsonl"
    rows = []
    for number, name in enumerate(("alpha", "beta", "gamma")):
        text = "\n\n".join(invent_items(100 * number + i, 1)[0]["output"] for i in range(40))
        rows.append({"id": name, "text": text})
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text("generate:\n  chunk_chars: 200\n  qa_per_chunk: 1\n", encoding="utf-8")
    fake_llm.items_per_reply = 1
    result = generate(fake_llm, tmp_path, "-n", "9", "--from-docs", str(docs), "--config", str(config),
                      "--concurrency", "1", seeds=None)
    assert result.exit_code == 0, result.output
    used = [(r["meta"]["doc_id"], r["meta"]["chunk"]["index"]) for r in read(tmp_path / "gen.jsonl")]
    assert [doc for doc, _ in used] == ["alpha", "beta", "gamma"] * 3
    per_doc = max(index for _, index in used) + 1
    assert per_doc > 9  # not just the first chunks of each document


def test_dry_run_prints_the_first_request_exactly_and_sends_nothing(fake_llm, llm_env, tmp_path):
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(json.dumps({"instruction": "Say hi", "output": "Sure! Hi", "reason": "filler opening"}) + "\n",
                        encoding="utf-8")
    args = ("-n", "5", "--feedback", str(feedback), "--application", "a cooking assistant")
    dry = generate(fake_llm, tmp_path, *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert fake_llm.requests == [] and list(tmp_path.iterdir()) == [feedback]
    shown = json.loads(dry.stdout)
    assert "a cooking assistant" in shown["messages"][0]["content"] and "filler opening" in shown["messages"][0]["content"]
    assert generate(fake_llm, tmp_path, *args).exit_code == 0
    sent = next(body for body in fake_llm.requests if body["seed"] == 0)
    assert shown == sent  # byte for byte the body the run sent first
