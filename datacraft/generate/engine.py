"""The generation loop: rounds of concurrent requests, committed to the journal in request order.

Requests run concurrently, but their results are committed strictly in request order, so the
accepted set depends only on the replies, never on timing: an interrupted run that is resumed
ends with exactly the items an uninterrupted run would have produced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from datacraft.generate.accept import ItemChecker
from datacraft.generate.config import GenerateConfig
from datacraft.generate.journal import Journal, JournalState, RoundState
from datacraft.generate.requests import Outcome, RoundContext, ask
from datacraft.llm import BudgetExhausted, LLMClient, LLMError

Progress = Callable[[dict[str, Any]], None]
Asker = Callable[[LLMClient, GenerateConfig, RoundContext, int], Awaitable[Outcome]]


class Generator:
    """Runs rounds until `n` items are accepted, the budget or the documents run out, or the rounds are done."""

    def __init__(self, config: GenerateConfig, client: LLMClient, journal: Journal, state: JournalState,
                 checker: ItemChecker, progress: Progress | None = None, ask: Asker = ask):
        self.config = config
        self.ask = ask  # what one request does: `requests.ask`, or a multi-turn or preference one
        self.client = client
        self.journal = journal
        self.state = state
        self.checker = checker
        self.progress = progress
        self.failures_in_a_row = 0
        self.dry_in_a_row = 0  # committed requests in a row that added no item
        self.committed = 0  # requests committed by this invocation
        self.accepted_now = 0

    async def run(self, next_round: Callable[[], tuple[RoundState, RoundContext]]) -> str:
        """Run rounds (from `next_round`, which opens or continues one) and return why the run stopped."""
        rounds_run = 0
        while self.state.kept() < self.config.n:
            if self.config.rounds is not None and rounds_run >= self.config.rounds:
                return "rounds"
            round_state, ctx = next_round()
            rounds_run += 1
            stop = await self._round(round_state, ctx)
            if stop:
                return stop
        return "target"

    def _needed(self, round_state: RoundState) -> int:
        """Items still to accept in this round: up to -n (review rejections do not count), or the round's size."""
        needed = self.config.n - self.state.kept()
        if self.config.round_size is not None:
            needed = min(needed, round_state.pool + self.config.round_size - len(self.state.accepted))
        return needed

    def _yield(self, ctx: RoundContext) -> float:
        """Accepted items expected per request, from what this run has seen (optimistic at first)."""
        if not self.committed:
            return float(ctx.per_request or (self.config.qa_per_chunk if ctx.chunks is not None else self.config.batch_size))
        return max(0.2, self.accepted_now / self.committed)

    async def _round(self, round_state: RoundState, ctx: RoundContext) -> str:
        """Run one round; "" when its target was reached, else why the run must stop."""
        inflight: dict[asyncio.Task[Outcome], int] = {}
        try:
            stop = await self._loop(round_state, ctx, inflight)
        except BaseException:  # Ctrl-C or a fatal error: do not wait for anything
            for task in inflight:
                task.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)
            raise
        await self._settle(inflight, wait=stop != "no_progress")
        return stop

    async def _loop(self, round_state: RoundState, ctx: RoundContext, inflight: dict[asyncio.Task[Outcome], int]) -> str:
        # Requests in flight or done but waiting for an earlier one to commit; room for a few seconds of
        # replies behind one that waits out a Retry-After, so one slow request does not stall the rest.
        window = 4 * self.client.config.concurrency
        results: dict[int, Outcome | BudgetExhausted] = {}
        k = commit_k = self.state.next_request
        stop = ""
        while True:
            while not stop and len(inflight) + len(results) < window and (
                    self._yield(ctx) * (len(inflight) + len(results)) < self._needed(round_state)):
                if ctx.limit is not None and k >= ctx.limit:
                    stop = ctx.used_up
                    break
                inflight[asyncio.create_task(self.ask(self.client, self.config, ctx, k))] = k
                k += 1
            if not inflight:
                return stop
            done, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                number = inflight.pop(task)
                error = task.exception()
                if error is not None and not isinstance(error, BudgetExhausted):
                    raise error
                results[number] = error if error is not None else task.result()
            # the checks that need no earlier commit, for every reply that came in, in one batch
            # (a checker with no such part, like the preference kind's, has no `prepare`)
            prepare = getattr(self.checker, "prepare", None)
            if prepare is not None:
                prepare([r for r in results.values() if isinstance(r, Outcome)])
            while commit_k in results:
                outcome = results.pop(commit_k)
                if isinstance(outcome, BudgetExhausted):
                    return outcome.reason  # later replies stay in the cache for the next run
                self._commit(outcome, round_state)
                commit_k += 1
                if self._needed(round_state) <= 0:
                    return ""
                if self.dry_in_a_row >= self.config.max_dry:
                    return "no_progress"

    async def _settle(self, inflight: dict[asyncio.Task[Outcome], int], wait: bool = True) -> None:
        """Let requests already sent finish (their replies go to the cache), then drop them.

        Not after `no_progress`: the prompt or filters will change before a rerun, so those replies
        would never be used, and a slow local server would keep the run waiting for them.
        """
        if not inflight:
            return
        _, pending = await asyncio.wait(inflight, timeout=self.client.config.read_timeout if wait else 0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*inflight, return_exceptions=True)

    def _commit(self, outcome: Outcome, round_state: RoundState) -> None:
        accepted, rejected = self.checker.split(outcome, round_state.round, round_state.feedback)
        entry = {"type": "request", "k": outcome.k, "round": round_state.round, "accepted": accepted,
                 "rejected": rejected, "usage": outcome.usage()}
        if outcome.first_error:
            entry["repair"] = {"error": outcome.first_error, "fixed": outcome.repaired}
        self.journal.append(entry, self.state)
        self.committed += 1
        self.accepted_now += len(accepted)
        self.dry_in_a_row = 0 if accepted else self.dry_in_a_row + 1
        if outcome.failure is not None:
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= self.config.max_failures:
                raise LLMError(f"{self.failures_in_a_row} requests in a row failed; the last: "
                               f"{outcome.failure.detail}. Check the endpoint, then rerun to resume")
        else:
            self.failures_in_a_row = 0
        if self.progress is not None:
            self.progress({"accepted": len(self.state.accepted), "rejected": len(self.state.rejects),
                           **self.client.usage.to_dict()})
