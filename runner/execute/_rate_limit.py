"""Adaptive rate limiting for every request of a run, all endpoints together.

An :class:`AdaptiveThrottle` is the ``Throttle`` the API client wraps each HTTP attempt
in. It combines three things:

- pacing: one request starts per ``1/rate`` seconds, no start-up burst. The waiting
  request re-reads the *current* rate, so a rate that climbed back applies at once
  (a limiter object built for an old, lower rate would keep its waiters slow);
- a semaphore: at most ``concurrency`` requests in flight;
- AIMD: on pushback (429, 503 + Retry-After, "too frequent") every worker pauses until
  the server's wait has passed and the rate halves -- once per pause: the other
  requests of the same burst that come back pushed back extend the pause but do not
  halve again; each success adds a little back, up to the configured rate. A run
  therefore finishes under a limit it was not told.

With a :class:`~runner.execute.RateBudget` (runs of one tenant side by side, each in its own
thread and event loop), each request then also waits for the start time the shared budget
gives it, a pushback pauses every run sharing the budget, and each run honours that pause.
Without one, nothing of the budget applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import structlog

from runner.execute._budget import RateBudget

__all__ = ["AdaptiveThrottle"]

log = structlog.get_logger(__name__)

#: While waiting for its turn, a request re-reads the rate at least this often.
_RECHECK_S = 0.05


class AdaptiveThrottle:
    """Rate (requests/second) and concurrency limits that back off on pushback."""

    def __init__(
        self,
        rate: float,
        concurrency: int,
        *,
        min_rate: float = 0.2,
        increase_per_success: float | None = None,
        default_pause_s: float = 1.0,
        budget: RateBudget | None = None,
    ) -> None:
        self.max_rate = rate
        self.min_rate = min(min_rate, rate)
        self.rate = rate
        self._increase = increase_per_success if increase_per_success else max(rate / 50, 0.02)
        self._default_pause = default_pause_s
        self._pace = asyncio.Lock()
        self._last_start = float("-inf")
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._paused_until = 0.0
        self.pushbacks = 0
        #: Shared with the tenant's other runs (its clock must be ``time.monotonic``).
        self.budget = budget

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot, any pause and the rate; then let one request through."""
        async with self._slots:
            await self._wait_turn()
            if self.budget is not None:
                await self._wait_budget(self.budget)
            yield

    async def _wait_turn(self) -> None:
        # One request at a time waits for its turn; it sleeps in short steps so that a
        # pause that starts, or a rate that rises, while it waits is honoured at once.
        async with self._pace:
            while True:
                await self._wait_pause()
                delay = self._last_start + 1 / self.rate - time.monotonic()
                if delay <= 0:
                    break
                await asyncio.sleep(min(delay, _RECHECK_S))
            self._last_start = time.monotonic()

    async def _wait_budget(self, budget: RateBudget) -> None:
        # The start time the tenant's budget gives; a pause that began while we waited
        # for it (another run was pushed back) is waited out and a new start time taken.
        while True:
            await _sleep_until(budget.reserve())
            if self._pause_end() <= time.monotonic():
                return
            await self._wait_pause()

    async def _wait_pause(self) -> None:
        # A loop, not an Event: another pushback may extend the pause while we sleep.
        while (delay := self._pause_end() - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def _pause_end(self) -> float:
        """When this run's pause ends: its own, or the shared budget's if that is later."""
        if self.budget is None:
            return self._paused_until
        return max(self._paused_until, self.budget.paused_until)

    def pushed_back(self, retry_after: float | None) -> None:
        """The server pushed back: pause everyone and halve the rate."""
        self.pushbacks += 1
        pause = retry_after if retry_after is not None else self._default_pause
        now = time.monotonic()
        if now >= self._paused_until:  # a new pushback, not the rest of the same burst
            self._set_rate(max(self.min_rate, self.rate / 2))
        self._paused_until = max(self._paused_until, now + pause)
        if self.budget is not None:
            self.budget.pushback(now + pause)
        log.warning("pushed back", pause_s=round(pause, 3), rate=round(self.rate, 3))

    def succeeded(self) -> None:
        """A request got an answer: climb back slowly (additive increase)."""
        if self.rate < self.max_rate:
            self._set_rate(min(self.max_rate, self.rate + self._increase))

    def _set_rate(self, rate: float) -> None:
        self.rate = rate


async def _sleep_until(when: float) -> None:
    """Sleep until ``time.monotonic()`` reaches *when* (a timer may fire a hair early)."""
    while (delay := when - time.monotonic()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(delay)
