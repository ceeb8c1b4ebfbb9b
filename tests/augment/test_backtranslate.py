"""Back-translation through a real OpenAI-compatible server on 127.0.0.1: both hops, spans, cache, failures."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fakellm import Reply

from datacraft.augment import AugmentConfig, augment_file, parse_translations
from datacraft.augment.script import HANT, chinese_script
from datacraft.cli import cli
from datacraft.llm import resolve_llm_config
from tests.augment.conftest import fake_translation, prompt_parts

RECORDS = [
    {"id": "zh", "instruction": "请写一个简短的故事，主角是 {{name}}。", "input": "",
     "output": "从前有一个叫 {{name}} 的孩子，他每天 7 点起床，访问 https://example.com 学习。请记住这个简短的故事。"},
    {"id": "en", "instruction": "Write a short poem about $x^2$ and {name}.", "input": "",
     "output": "Here is a short poem: {name} loves $x^2$ and 3 good apples. Write back soon with `code`!"},
    {"id": "hant", "instruction": "請寫一個簡短的故事。", "input": "", "output": "這是一個簡短的故事，請慢慢閱讀。"},
]
SPANS = {"zh": ["{{name}}", "7", "https://example.com"], "en": ["$x^2$", "{name}", "3", "`code`"], "hant": []}


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    return path


def llm_for(server, **settings):
    return resolve_llm_config({"max_retries": 1, "backoff_base": 0.01, "timeout": 10, **settings},
                              base_url=server.url, model="fake-mt", env={})


def run(data, tmp_path, server, name="out.jsonl", **config):
    config = AugmentConfig(methods=["backtranslate"], **config)
    out, rejects = tmp_path / name, tmp_path / f"{name}.rejects.jsonl"
    result = augment_file([str(data)], str(out), rejects=str(rejects), config=config, llm=llm_for(server))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    bad = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    return result, rows, bad


def test_two_hops_with_the_right_languages_and_spans_intact(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = fake_translation
    result, rows, bad = run(data, tmp_path, fake_llm)
    assert bad == []
    assert result["methods"]["backtranslate"] == {"produced": 3, "rejected": 0, "reasons": {}}
    hops = [prompt_parts(body) for body in fake_llm.requests]
    directions = sorted((source, target) for source, target, _ in hops)
    assert directions == sorted([("Simplified Chinese", "English"), ("English", "Simplified Chinese"),
                                 ("English", "Simplified Chinese"), ("Simplified Chinese", "English"),
                                 ("Traditional Chinese", "English"), ("English", "Traditional Chinese")])
    # The second hop translates exactly what the first hop returned, masked spans and all.
    sent_back = {t for source, target, texts in hops if texts[0].startswith("<pivot:") for t in texts}
    assert len(sent_back) == 6 and all("⟦" in t for t in sent_back if "请写" in t or "Write" in t)
    by_id = {row["id"]: row for row in rows}
    assert [row["id"] for row in rows] == ["zh", "zh#bt1", "en", "en#bt1", "hant", "hant#bt1"]
    for source in RECORDS:
        copy = by_id[f"{source['id']}#bt1"]
        assert copy["meta"]["augmented_from"] == source["id"] and copy["meta"]["method"] == "backtranslate"
        assert copy["meta"]["augment"]["translator"] == "llm"
        assert copy["instruction"] != source["instruction"]
        for span in SPANS[source["id"]]:
            assert copy["instruction"].count(span) + copy["output"].count(span) == \
                source["instruction"].count(span) + source["output"].count(span), span
    assert by_id["zh#bt1"]["instruction"] == "麻烦写某个简要的故事，主角是 {{name}}。"
    assert by_id["en#bt1"]["instruction"] == "Compose a brief poem about $x^2$ and {name}."
    assert chinese_script(by_id["hant#bt1"]["output"]) == HANT  # the fake answered in Simplified
    assert by_id["hant#bt1"]["output"] == "這是某個簡要的故事，麻煩慢慢閱讀。"


def test_a_lost_span_rejects_the_copy(data, tmp_path, fake_llm, llm_env):
    def drop_url(body, index):
        reply = fake_translation(body, index)
        if "访问" in reply.content:  # only the Chinese output holds a URL
            reply.content = reply.content.replace("⟦3⟧", "")
        return reply

    fake_llm.handler = drop_url
    result, rows, bad = run(data, tmp_path, fake_llm)
    assert result["methods"]["backtranslate"]["reasons"] == {"protected_span_lost": 1}
    assert bad[0]["source"] == "zh" and bad[0]["reason"] == "protected_span_lost"
    assert bad[0]["detail"] == "output: lost 1 of 3 protected spans, e.g. 'https://example.com'"
    assert "zh#bt1" not in {row["id"] for row in rows}


def test_rerun_is_answered_by_the_cache_and_identical(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = fake_translation
    _, first, _ = run(data, tmp_path, fake_llm)
    sent = len(fake_llm.requests)
    result, second, _ = run(data, tmp_path, fake_llm)
    assert len(fake_llm.requests) == sent and result["usage"]["cached"] == sent
    assert first == second


def test_unreadable_batch_is_retried_text_by_text(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = fake_translation
    fake_llm.script = [Reply("Sorry, here you go: ⟦1⟧")]  # the first (batched) reply is garbage
    result, rows, bad = run(data, tmp_path, fake_llm, backtranslate={"batch_size": 8})
    assert result["methods"]["backtranslate"]["produced"] == 3
    assert max(len(prompt_parts(body)[2]) for body in fake_llm.requests) == 2  # zh: instruction + output
    assert sum(len(prompt_parts(body)[2]) == 1 for body in fake_llm.requests) >= 2  # the retried singles


def test_failed_requests_become_rejects_not_crashes(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = lambda body, index: Reply(status=500)
    result, rows, bad = run(data, tmp_path, fake_llm)
    assert [row["id"] for row in rows] == ["zh", "en", "hant"]
    assert result["methods"]["backtranslate"]["reasons"] == {"translation_failed": 3}
    assert result["read"] == 3 and result["kept"] == 3


@pytest.mark.parametrize(("reply", "count", "expected"), [
    ('{"translations": ["a", "b"]}', 2, (["a", "b"], "")),
    ('Here:\n```json\n{"translations": ["a", "b",],}\n```\nHope it helps', 2, (["a", "b"], "")),
    ('[{"translation": "a"}, {"text": "b"}]', 2, (["a", "b"], "")),
    ("just the translation", 1, (["just the translation"], "")),
    ("", 1, (None, "empty reply")),
    ('{"translations": ["a"]}', 2, (None, "expected 2 translations, got 1")),
    ("garbage { not json", 2, (None, "no JSON in the reply")),
])
def test_parse_translations(reply, count, expected):
    assert parse_translations(reply, count) == expected


def test_cli_back_translation_and_missing_model(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = fake_translation
    out = tmp_path / "cli.jsonl"
    runner = CliRunner()
    result = runner.invoke(cli, ["augment", str(data), "-o", str(out), "--method", "backtranslate",
                                 "--base-url", fake_llm.url, "--model", "fake-mt", "--pivot", "en"])
    assert result.exit_code == 0, result.output
    assert "backtranslate  produced      3  rejected      0" in result.output
    assert (tmp_path / "cli.jsonl.run" / "cache.sqlite").exists()
    result = runner.invoke(cli, ["augment", str(data), "-o", str(out), "--method", "backtranslate"])
    assert result.exit_code == 2
    assert result.output == "Error: no model given: pass --model NAME (or set llm.model in the config file)\n"


def test_blocks_translated_ahead_give_the_same_output(data, tmp_path, fake_llm, llm_env):
    fake_llm.handler = fake_translation
    _, whole, _ = run(data, tmp_path, fake_llm, name="whole.jsonl", backtranslate={"batch_size": 1})
    requests = len(fake_llm.requests)
    fake_llm.requests.clear()
    result, blocks, _ = run(data, tmp_path, fake_llm, name="blocks.jsonl", block_size=1, backtranslate={"batch_size": 1})
    assert blocks == whole and len(fake_llm.requests) == requests  # a new cache: every request sent again
    assert result["stages"]["backtranslate"]["read"] == 3
