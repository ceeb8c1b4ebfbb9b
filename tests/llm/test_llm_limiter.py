"""Adaptive concurrency: AIMD behaviour of the limiter, without any network."""

from __future__ import annotations

import asyncio

from datacraft.llm import AdaptiveLimiter
from datacraft.llm.limiter import FAILED, OK, RATE_LIMITED


def test_a_429_halves_the_limit_once_per_burst():
    async def go():
        limiter = AdaptiveLimiter(16)
        tokens = [await limiter.acquire() for _ in range(16)]
        for token in tokens[:8]:  # eight 429s from the same burst: one cut
            limiter.release(token, RATE_LIMITED)
        assert limiter.limit == 8.0 and limiter.decreases == 1
        for token in tokens[8:]:
            limiter.release(token, FAILED)
        newer = await limiter.acquire()
        limiter.release(newer, RATE_LIMITED)  # sent after the cut: a second cut
        assert limiter.limit == 4.0 and limiter.decreases == 2

    asyncio.run(go())


def test_the_limit_never_drops_below_the_minimum_and_failures_do_not_cut_it():
    async def go():
        limiter = AdaptiveLimiter(4, min_limit=2)
        for _ in range(5):
            limiter.release(await limiter.acquire(), RATE_LIMITED)
        assert limiter.limit == 2.0 and limiter.slots == 2
        limiter.release(await limiter.acquire(), FAILED)
        assert limiter.limit == 2.0

    asyncio.run(go())


def test_growth_is_fast_back_to_near_the_refused_level_then_slow_next_to_it():
    async def go():
        limiter = AdaptiveLimiter(64)
        limiter.limit = 32.0
        limiter.release(await limiter.acquire(), RATE_LIMITED)  # 32 -> 16, the endpoint refused at 32
        assert limiter.ceiling == 32.0
        for _ in range(8):
            limiter.release(await limiter.acquire(), OK)
        assert limiter.limit == 20.0  # recovering: half a slot per success
        limiter.limit, limiter.ceiling = 20.0, 20.5
        for _ in range(20):
            limiter.release(await limiter.acquire(), OK)
        assert 20.09 < limiter.limit < 20.11  # next to the refused level: a tenth of a slot per round trip
        limiter.limit, limiter.ceiling = 10.0, None
        for _ in range(10):
            limiter.release(await limiter.acquire(), OK)
        assert 10.9 < limiter.limit < 11.0  # no 429 seen: about one slot per round trip

    asyncio.run(go())


def test_more_refusals_from_one_burst_lower_the_remembered_level():
    async def go():
        limiter = AdaptiveLimiter(32)
        tokens = [await limiter.acquire() for _ in range(32)]
        for token in tokens[16:]:  # an endpoint that takes 16 refuses the other 16 of the first burst
            limiter.release(token, RATE_LIMITED)
        assert limiter.limit == 16.0 and limiter.ceiling == 17.0

    asyncio.run(go())


def test_waiters_get_slots_in_order_and_never_exceed_the_limit():
    async def go():
        limiter = AdaptiveLimiter(3, adaptive=False)
        peak = 0
        order = []

        async def job(i):
            nonlocal peak
            token = await limiter.acquire()
            peak = max(peak, limiter.in_flight)
            order.append(i)
            await asyncio.sleep(0.01)
            limiter.release(token, OK)

        await asyncio.gather(*(job(i) for i in range(12)))
        return peak, order, limiter.in_flight

    peak, order, left = asyncio.run(go())
    assert peak == 3 and order == list(range(12)) and left == 0


def test_a_cancelled_waiter_gives_its_slot_back():
    async def go():
        limiter = AdaptiveLimiter(1, adaptive=False)
        token = await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        limiter.release(token, OK)
        assert limiter.in_flight == 0
        second = await asyncio.wait_for(limiter.acquire(), 1)
        limiter.release(second, OK)

    asyncio.run(go())


def test_retries_go_to_the_front_of_the_queue():
    async def go():
        limiter = AdaptiveLimiter(1, adaptive=False)
        token = await limiter.acquire()
        order = []

        async def job(name, first=False):
            slot = await limiter.acquire(first=first)
            order.append(name)
            limiter.release(slot, OK)

        waiting = [asyncio.create_task(job("new-1")), asyncio.create_task(job("new-2"))]
        await asyncio.sleep(0)
        waiting.append(asyncio.create_task(job("retry", first=True)))
        await asyncio.sleep(0)
        limiter.release(token, OK)
        await asyncio.gather(*waiting)
        return order

    assert asyncio.run(go()) == ["retry", "new-1", "new-2"]
