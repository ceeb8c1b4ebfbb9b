"""What a client has used so far (requests, tokens, cost), and the budget that caps it."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any


class BudgetExhausted(Exception):
    """Sending another request would pass --max-requests or --max-cost."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Usage:
    """Running totals for a client; `to_dict()` is what manifests and summaries show."""

    requests: int = 0  # replies received from the network
    cached: int = 0  # replies served from the cache (free)
    attempts: int = 0  # HTTP attempts, retries included
    retries: int = 0
    rate_limited: int = 0  # 429 replies
    server_errors: int = 0  # 5xx replies
    timeouts: int = 0
    connection_errors: int = 0
    failed: int = 0  # requests given up on
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cost_known: bool = True  # False once a reply came from a model without a price

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cost"] = round(self.cost, 6) if self.cost_known else None
        del data["cost_known"]
        return data


class Budget:
    """Caps on network requests and estimated cost for one run; None switches a cap off.

    A request is sent only if what was spent, plus what the requests in flight and this one will
    likely cost (the average so far), stays within the cost cap. Until the first reply says what a
    request costs, only one request is sent. `spent_before`/`paid_before` carry what earlier runs
    of the same job spent, so a resumed run does not spend the cap again.
    """

    def __init__(self, max_requests: int | None = None, max_cost: float | None = None, *,
                 spent_before: float = 0.0, paid_before: int = 0):
        self.max_requests = max_requests
        self.max_cost = max_cost
        self.sent = 0
        self.settled = 0
        self.spent = 0.0
        self.spent_before = spent_before
        self.paid_before = paid_before
        self._priced: asyncio.Event | None = None  # set once the first request has settled

    @property
    def in_flight(self) -> int:
        return self.sent - self.settled

    async def claim(self) -> None:
        """Claim one request (waiting for the first price when a cost cap is set), or raise BudgetExhausted."""
        if self.max_cost is not None and self.sent and not self.settled and not self.paid_before:
            self._priced = self._priced or asyncio.Event()
            await self._priced.wait()
        if self.max_requests is not None and self.sent >= self.max_requests:
            raise BudgetExhausted("max_requests")
        if self.max_cost is not None:
            spent = self.spent + self.spent_before
            if spent >= self.max_cost:
                raise BudgetExhausted("max_cost")
            if self.settled or self.paid_before:
                per_request = spent / (self.settled + self.paid_before)
                if spent + per_request * (self.in_flight + 1) > self.max_cost:  # this one would pass the cap
                    raise BudgetExhausted("max_cost")
        self.sent += 1

    def settle(self, cost: float | None) -> None:
        """A claimed request is over (its cost, or None when unknown or it failed)."""
        self.settled += 1
        self.spent += cost or 0.0
        if self._priced is not None:
            self._priced.set()
