"""Adaptive concurrency (AIMD): halve the number of requests in flight on a 429, win it back slowly.

Like TCP congestion control: multiplicative decrease on a rate-limit reply, additive increase of
about one slot per round trip otherwise. The level where the endpoint last refused is remembered
(TCP's ssthresh, CUBIC's W_max): after a cut the limiter climbs back quickly to 90% of it, then
probes ten times more slowly, so a steady endpoint sees a 429 only every few hundred requests and
the time spent well below its capacity stays short.
"""

from __future__ import annotations

import asyncio
from collections import deque

OK = "ok"
RATE_LIMITED = "rate_limited"
FAILED = "failed"


class AdaptiveLimiter:
    """`token = await acquire()` before a request, `release(token, outcome)` after it."""

    def __init__(self, limit: int, min_limit: int = 1, adaptive: bool = True, decrease: float = 0.5):
        self.max_limit = limit
        self.min_limit = min(min_limit, limit)
        self.adaptive = adaptive
        self.decrease = decrease
        self.limit = float(limit)
        self.ceiling: float | None = None  # the level at which the endpoint last said 429
        self.in_flight = 0
        self.decreases = 0
        self._epoch = 0  # bumped on every decrease; a 429 from an older request is old news
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def slots(self) -> int:
        return max(self.min_limit, int(self.limit))

    async def acquire(self, first: bool = False) -> int:
        """Wait for a free slot (`first`: ahead of the queue, for retries); returns a token for `release`."""
        if self.in_flight < self.slots and not self._waiters:
            self.in_flight += 1
            return self._epoch
        waiter = asyncio.get_running_loop().create_future()
        if first:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # the slot was handed over just as we were cancelled
                self._wake()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise
        return self._epoch

    def release(self, token: int, outcome: str = OK) -> None:
        """Free a slot and adapt the limit to how the request went."""
        self.in_flight -= 1
        if self.adaptive:
            if outcome == RATE_LIMITED and token == self._epoch:
                # Only the first 429 of a burst counts: requests sent before the cut were sent too fast.
                self.ceiling = self.limit
                self.limit = max(float(self.min_limit), self.limit * self.decrease)
                self._epoch += 1
                self.decreases += 1
            elif outcome == RATE_LIMITED and self.ceiling is not None:
                # More refusals from the same burst: the endpoint's real capacity is lower than the old level.
                self.ceiling = max(self.limit, self.ceiling - 1)
            elif outcome == OK and self.limit < self.max_limit:
                if self.ceiling is not None and self.limit < 0.9 * self.ceiling:
                    step = 0.5  # recovering from a cut: about x1.5 per round trip, up to 90% of the old level
                elif self.ceiling is not None and self.limit >= self.ceiling - 1:
                    step = 0.1 / self.limit  # next to where the 429 came: one slot per ten round trips
                else:
                    step = 1.0 / self.limit  # one slot per round trip
                self.limit = min(float(self.max_limit), self.limit + step)
                if self.ceiling is not None and self.limit > self.ceiling + 1:
                    self.ceiling = None  # the endpoint takes more now: forget the old ceiling
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.slots:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self.in_flight += 1
            waiter.set_result(None)
