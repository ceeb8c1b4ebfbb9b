"""LLM settings: precedence, validation, and keeping the key out of everything written."""

from __future__ import annotations

import pytest

from datacraft.errors import ConfigError
from datacraft.llm import (
    ResponseCache,
    api_key,
    redact,
    request_key,
    resolve_llm_config,
    retry_after,
)
from datacraft.llm.config import DEFAULT_BASE_URL


def test_flags_beat_the_config_file_which_beats_the_environment():
    env = {"OPENAI_BASE_URL": "http://env:1/v1"}
    assert resolve_llm_config({"model": "m"}, env=env).base_url == "http://env:1/v1"
    from_file = resolve_llm_config({"model": "m", "base_url": "http://file:2/v1"}, env=env)
    assert from_file.base_url == "http://file:2/v1"
    flagged = resolve_llm_config({"model": "m", "base_url": "http://file:2/v1", "concurrency": 3}, env=env,
                                 base_url="http://flag:3/v1", model="other", concurrency=None)
    assert (flagged.base_url, flagged.model, flagged.concurrency) == ("http://flag:3/v1", "other", 3)
    assert resolve_llm_config({}, env={}, model="m").base_url == DEFAULT_BASE_URL


def test_config_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown key 'concurency'"):
        resolve_llm_config({"model": "m", "concurency": 4}, env={})
    with pytest.raises(ConfigError, match="no model given: pass --model"):
        resolve_llm_config({}, env={})
    with pytest.raises(ConfigError, match="concurrency: Input should be greater than or equal to 1"):
        resolve_llm_config({}, env={}, model="m", concurrency=0)
    with pytest.raises(ConfigError, match="the API key is never a setting"):
        resolve_llm_config({}, env={}, model="m", api_key="sk-x")


def test_api_key_comes_from_the_named_variable_and_is_required_only_for_openai():
    local = resolve_llm_config({}, env={}, model="m", base_url="http://localhost:8000/v1", api_key_env="MY_KEY")
    assert api_key(local, env={"MY_KEY": "abc"}) == "abc"
    assert api_key(local, env={}) == "not-needed"
    remote = resolve_llm_config({}, env={}, model="gpt-4o-mini")
    with pytest.raises(ConfigError, match=r"no API key: set OPENAI_API_KEY"):
        api_key(remote, env={})


def test_public_settings_hide_credentials():
    config = resolve_llm_config({}, env={}, model="m", base_url="https://user:pw@proxy.example/v1")
    public = config.public()
    assert public["base_url"] == "https://***@proxy.example/v1"
    assert "pw" not in str(public) and "prices" not in public


def test_redact_removes_keys_and_keylike_strings():
    assert redact("bad key abc123secretXYZ", "abc123secretXYZ") == "bad key ***"
    assert "0123456789" not in redact("Incorrect API key provided: sk-proj-0123456789abcdef")


def test_retry_after_reads_seconds_milliseconds_and_dates():
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after({"retry-after": "100000"}) == 300.0  # capped
    assert retry_after({}) is None and retry_after(None) is None


def test_request_key_depends_on_everything_that_decides_the_reply(tmp_path):
    messages = [{"role": "user", "content": "hi"}]
    base = request_key("m", messages, {"temperature": 1.0, "seed": 1})
    assert base == request_key("m", [{"content": "hi", "role": "user"}], {"seed": 1, "temperature": 1.0})
    assert base != request_key("m2", messages, {"temperature": 1.0, "seed": 1})
    assert base != request_key("m", messages, {"temperature": 1.0, "seed": 2})
    assert base != request_key("m", [{"role": "user", "content": "hi!"}], {"temperature": 1.0, "seed": 1})
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put(base, "m", {"text": "中文 reply"})
    assert cache.get(base) == {"text": "中文 reply"} and cache.get("nope") is None and len(cache) == 1


def test_a_base_url_without_http_or_https_is_refused_before_anything_runs():
    for bad in ("localhost:8000/v1", "ftp://example.com/v1", "http://"):
        with pytest.raises(ConfigError, match="is not an http:// or https:// address"):
            resolve_llm_config(base_url=bad, model="m", env={})
    assert resolve_llm_config(base_url="https://api.deepseek.com/v1", model="m", env={}).base_url == "https://api.deepseek.com/v1"
