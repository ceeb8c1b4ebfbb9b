"""Endpoints as they are: streamed replies, silence timeouts, `max_tokens` variants, prices, local servers."""

from __future__ import annotations

import asyncio

import pytest
from fakellm import FakeLLM, Reply

from datacraft.llm import LLMClient, RequestFailed, resolve_llm_config

MESSAGES = [{"role": "user", "content": "Say hello as JSON."}]


def make_client(server: FakeLLM, **settings) -> LLMClient:
    settings = {"max_retries": 0, "backoff_base": 0.01, "timeout": 5, **settings}
    config = resolve_llm_config(settings, base_url=server.url, model=settings.pop("model", "fake-model"), env={})
    return LLMClient(config, key="sk-local")


def complete(client: LLMClient, **options):
    async def go():
        async with client:
            return await client.complete(MESSAGES, **options)
    return asyncio.run(go())


def test_replies_are_streamed_with_usage_from_the_last_chunk(fake_llm):
    fake_llm.script = [Reply('{"greeting": "hello there"}', pieces=5, usage={"prompt_tokens": 9, "completion_tokens": 6})]
    reply = complete(make_client(fake_llm), max_tokens=50)
    assert reply.text == '{"greeting": "hello there"}' and reply.finish_reason == "stop"
    assert (reply.prompt_tokens, reply.completion_tokens) == (9, 6)
    body = fake_llm.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 50
    assert fake_llm.streamed == 1


def test_a_slow_server_that_keeps_streaming_is_never_timed_out_or_asked_twice(fake_llm):
    # 6 pieces 0.4 s apart: 2 s in all, twice the 1 s silence limit, but never silent that long
    fake_llm.script = [Reply("x" * 60, pieces=6, chunk_delay=0.4)]
    reply = complete(make_client(fake_llm, timeout=1.0, max_retries=3))
    assert reply.text == "x" * 60
    assert len(fake_llm.requests) == 1


def test_a_stalled_stream_times_out_on_silence_and_is_retried(fake_llm):
    fake_llm.script = [Reply("y" * 40, stall=2.0), Reply("recovered")]
    client = make_client(fake_llm, timeout=0.5, max_retries=1)
    reply = complete(client)
    assert reply.text == "recovered" and client.usage.timeouts == 1 and len(fake_llm.requests) == 2
    fake_llm.script = [Reply("z" * 40, stall=2.0)]
    with pytest.raises(RequestFailed, match=r"timeout \(no data for 0.5 s\) after 1 attempts"):
        complete(make_client(fake_llm, timeout=0.5))


def test_an_endpoint_that_cannot_stream_is_asked_without_streaming():
    with FakeLLM(reject_stream=True) as server:
        server.script = [Reply("plain"), Reply("again")]
        client = make_client(server)
        assert complete(client).text == "plain"
        assert [("stream" in b) for b in server.requests] == [True, False] and server.streamed == 0


def test_max_tokens_goes_as_max_completion_tokens_where_the_model_needs_it():
    with FakeLLM(reject_max_tokens=True) as server:
        assert complete(make_client(server), max_tokens=64).text  # refused once, then renamed
        assert "max_tokens" in server.requests[0] and server.requests[1]["max_completion_tokens"] == 64
        complete(make_client(server, model="o3-mini"), max_tokens=64)  # known reasoning model: renamed at once
        assert server.requests[2]["max_completion_tokens"] == 64 and "max_tokens" not in server.requests[2]
        complete(make_client(server, max_tokens_param="none"), max_tokens=64)
        assert "max_tokens" not in server.requests[3] and "max_completion_tokens" not in server.requests[3]


def test_prices_for_common_providers_prefixes_config_and_local_servers():
    def price(model, url="https://api.example.com/v1", **settings):
        return resolve_llm_config(settings, base_url=url, model=model, env={}).price(model)

    assert price("deepseek-chat").output == pytest.approx(1.1)
    assert price("gpt-4o-mini-2024-07-18") == price("gpt-4o-mini")  # dated names use the family's price
    assert price("qwen-plus") is not None and price("moonshot-v1-8k") is not None and price("glm-4-plus") is not None
    assert price("my-model") is None
    assert price("my-model", prices={"my-model": {"input": 1, "output": 2}}).output == 2
    assert price("my-model", url="http://localhost:8000/v1").input == 0.0  # a local server is free
    assert price("deepseek-chat", prices={"deepseek-chat": {"input": 9, "output": 9}}).input == 9


def test_default_silence_timeout_is_longer_for_local_servers():
    local = resolve_llm_config({}, base_url="http://127.0.0.1:8000/v1", model="m", env={})
    remote = resolve_llm_config({}, base_url="https://api.deepseek.com/v1", model="m", env={})
    assert (local.read_timeout, remote.read_timeout) == (600.0, 120.0)
