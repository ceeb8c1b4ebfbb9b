"""The LLM client against a real local HTTP server, through the real `openai` package."""

from __future__ import annotations

import asyncio
import socket

import pytest
from fakellm import FakeLLM, Reply

from datacraft.llm import (
    Budget,
    BudgetExhausted,
    LLMClient,
    LLMError,
    RequestFailed,
    ResponseCache,
    resolve_llm_config,
)

MESSAGES = [{"role": "user", "content": "Say hello as JSON."}]


def make_client(server: FakeLLM, key: str = "sk-local", cache: ResponseCache | None = None,
                budget: Budget | None = None, **settings) -> LLMClient:
    settings = {"max_retries": 3, "backoff_base": 0.01, "timeout": 5, **settings}
    config = resolve_llm_config(settings, base_url=server.url, model=settings.pop("model", "fake-model"), env={})
    return LLMClient(config, cache=cache, budget=budget, key=key)


def run(coro):
    return asyncio.run(coro)


async def complete(client: LLMClient, **options):
    async with client:
        return await client.complete(MESSAGES, **options)


def test_completion_text_tokens_and_free_local_cost(fake_llm):
    fake_llm.script = [Reply('{"greeting": "hello"}', usage={"prompt_tokens": 11, "completion_tokens": 7})]
    client = make_client(fake_llm)
    reply = run(complete(client))
    assert reply.text == '{"greeting": "hello"}'
    assert (reply.finish_reason, reply.prompt_tokens, reply.completion_tokens) == ("stop", 11, 7)
    assert reply.cost == 0.0 and not reply.cached  # a server on 127.0.0.1 costs nothing
    usage = client.usage.to_dict()
    assert (usage["requests"], usage["prompt_tokens"], usage["completion_tokens"], usage["cost"]) == (1, 11, 7, 0.0)
    assert fake_llm.requests[0]["model"] == "fake-model"


def test_cost_from_configured_price(fake_llm):
    fake_llm.script = [Reply("ok", usage={"prompt_tokens": 1_000_000, "completion_tokens": 500_000})]
    client = make_client(fake_llm, model="my-model", prices={"my-model": {"input": 2.0, "output": 8.0}})
    reply = run(complete(client))
    assert reply.cost == pytest.approx(2.0 + 4.0)
    assert client.usage.to_dict()["cost"] == pytest.approx(6.0)


def test_cache_answers_the_same_request_once_paid(fake_llm, tmp_path):
    path = tmp_path / "cache.sqlite"
    first = run(complete(make_client(fake_llm, cache=ResponseCache(path)), seed=1))
    again = make_client(fake_llm, cache=ResponseCache(path))  # a new process would open the file anew
    second = run(complete(again, seed=1))
    other = run(complete(make_client(fake_llm, cache=ResponseCache(path)), seed=2))
    assert len(fake_llm.requests) == 2  # seed=1 once, seed=2 once
    assert second.cached and second.text == first.text and second.cost == 0.0
    assert again.usage.to_dict()["requests"] == 0 and again.usage.cached == 1
    assert not other.cached


def test_429_is_retried_after_retry_after_and_halves_concurrency(fake_llm):
    fake_llm.script = [Reply(status=429, headers={"Retry-After": "0.05"})]
    client = make_client(fake_llm, concurrency=8)
    reply = run(complete(client))
    assert reply.text  # the second attempt got through
    assert len(fake_llm.requests) == 2
    usage = client.usage.to_dict()
    assert (usage["rate_limited"], usage["retries"], usage["attempts"]) == (1, 1, 2)
    assert client.limiter.decreases == 1 and client.limiter.limit < 8


def test_backoff_honours_retry_after_and_grows_exponentially(fake_llm):
    client = make_client(fake_llm, backoff_base=1.0, backoff_max=60.0)
    assert client._backoff(1, 7.0) >= 7.0
    waits = [client._backoff(attempt, None) for attempt in (1, 2, 3, 4)]
    for attempt, wait in zip((1, 2, 3, 4), waits, strict=True):
        ceiling = 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling  # exponential, with jitter in the upper half
    assert client._backoff(20, None) <= 60.0


def test_server_errors_are_retried_then_given_up(fake_llm):
    fake_llm.script = [Reply(status=500), Reply(status=503)]
    client = make_client(fake_llm)
    assert run(complete(client)).text
    assert client.usage.server_errors == 2 and client.usage.retries == 2

    fake_llm.handler = lambda body, index: Reply(status=502)
    failing = make_client(fake_llm, max_retries=2)
    with pytest.raises(RequestFailed, match="http_502 after 3 attempts"):
        run(complete(failing))
    assert failing.usage.failed == 1


def test_slow_reply_times_out_and_is_retried(fake_llm):
    fake_llm.script = [Reply("too late", delay=1.5)]
    client = make_client(fake_llm, timeout=0.3)
    reply = run(complete(client))
    assert reply.text != "too late"
    assert client.usage.timeouts == 1 and len(fake_llm.requests) == 2


def test_connection_errors_are_retried_then_reported():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = resolve_llm_config({"max_retries": 1, "backoff_base": 0.01}, base_url=f"http://127.0.0.1:{port}/v1",
                                model="m", env={})
    client = LLMClient(config, key="k")
    with pytest.raises(RequestFailed, match="connection_error"):
        run(complete(client))
    assert client.usage.connection_errors == 2


def test_json_mode_falls_back_when_the_endpoint_rejects_it():
    with FakeLLM(reject_response_format=True) as server:
        client = make_client(server)
        assert run(complete(client, json_mode=True)).text
        assert "response_format" in server.requests[0] and "response_format" not in server.requests[1]
        assert "response_format" in client.dropped and client.usage.retries == 0

        strict = make_client(server, json_mode="on")
        with pytest.raises(RequestFailed, match="request_refused"):
            run(complete(strict, json_mode=True))


def test_bad_key_is_fatal_and_never_echoed(fake_llm):
    secret = "sk-live-abcdefghijklmnop1234"
    body = {"error": {"message": f"Incorrect API key provided: {secret}.", "type": "invalid_request_error"}}
    fake_llm.script = [Reply(status=401, body=body)]
    with pytest.raises(LLMError) as caught:
        run(complete(make_client(fake_llm, key=secret, api_key_env="MY_KEY")))
    assert "refused the API key" in str(caught.value) and "$MY_KEY" in str(caught.value)
    assert "abcdefghijklmnop" not in str(caught.value)
    assert fake_llm.headers[0]["authorization"] == f"Bearer {secret}"  # it was sent, just never shown


def test_budget_caps_paid_requests_not_cached_ones(fake_llm, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    client = make_client(fake_llm, cache=cache, budget=Budget(max_requests=2))

    async def go():
        async with client:
            await client.complete(MESSAGES, seed=1)
            await client.complete(MESSAGES, seed=2)
            await client.complete(MESSAGES, seed=1)  # cached: free
            with pytest.raises(BudgetExhausted, match="max_requests"):
                await client.complete(MESSAGES, seed=3)

    run(go())
    assert len(fake_llm.requests) == 2


def test_adaptive_concurrency_backs_off_under_rate_limits():
    with FakeLLM(delay=0.05, max_concurrent=4, retry_after="0.05") as server:
        client = make_client(server, concurrency=16, max_retries=10)

        async def go():
            async with client:
                return await asyncio.gather(*(client.complete(MESSAGES, seed=i) for i in range(48)))

        replies = run(go())
    assert len(replies) == 48 and all(r.text for r in replies)
    assert server.rate_limited >= 1 and client.limiter.decreases >= 1
    assert client.limiter.limit < 16
    assert server.completed == 48


def test_cost_budget_waits_for_the_first_price_then_keeps_within_the_cap():
    async def go():
        budget = Budget(max_cost=1.0)
        await budget.claim()  # the first request goes at once
        second = asyncio.create_task(budget.claim())
        await asyncio.sleep(0.01)
        assert not second.done()  # nothing is known about cost yet: wait for the first reply
        budget.settle(0.3)
        await second
        await budget.claim()  # 0.3 spent + 2 in flight x 0.3 = 0.9: fits
        with pytest.raises(BudgetExhausted, match="max_cost"):
            await budget.claim()  # 0.3 + 3 x 0.3 = 1.2 would pass 1.0
        assert (budget.sent, budget.in_flight) == (3, 2)

    run(go())


def test_a_cancelled_request_gives_its_slot_back(fake_llm):
    fake_llm.script = [Reply("slow", delay=2.0)]
    client = make_client(fake_llm, concurrency=1)

    async def go():
        async with client:
            slow = asyncio.create_task(client.complete(MESSAGES, seed=1))
            await asyncio.sleep(0.3)
            slow.cancel()
            await asyncio.gather(slow, return_exceptions=True)
            assert client.limiter.in_flight == 0
            return await asyncio.wait_for(client.complete(MESSAGES, seed=2), 5)

    assert run(go()).text
