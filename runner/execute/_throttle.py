"""Adaptive rate limiting for every request of a run, all endpoints together.

An :class:`AdaptiveThrottle` is the ``Throttle`` the API client wraps each HTTP attempt
in. It combines three things:

- an ``aiolimiter.AsyncLimiter(1, 1/rate)``: one request per interval, no start-up burst;
- a semaphore: at most ``concurrency`` requests in flight;
- AIMD: on pushback (429, 503 + Retry-After, "too frequent") every worker pauses until
  the server's wait has passed and the rate halves; each success adds a little back,
  up to the configured rate. A run therefore finishes under a limit it was not told.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import structlog
from aiolimiter import AsyncLimiter

__all__ = ["AdaptiveThrottle"]

log = structlog.get_logger(__name__)


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
    ) -> None:
        self.max_rate = rate
        self.min_rate = min(min_rate, rate)
        self.rate = rate
        self._increase = increase_per_success if increase_per_success else max(rate / 50, 0.02)
        self._default_pause = default_pause_s
        self._limiter = AsyncLimiter(1, 1 / rate)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._paused_until = 0.0
        self.pushbacks = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot, any pause and the rate; then let one request through."""
        async with self._slots:
            await self._wait_pause()
            async with self._limiter:
                await self._wait_pause()
                yield

    async def _wait_pause(self) -> None:
        # A loop, not an Event: another pushback may extend the pause while we sleep.
        while (delay := self._paused_until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def pushed_back(self, retry_after: float | None) -> None:
        """The server pushed back: pause everyone and halve the rate."""
        self.pushbacks += 1
        pause = retry_after if retry_after is not None else self._default_pause
        self._paused_until = max(self._paused_until, time.monotonic() + pause)
        self._set_rate(max(self.min_rate, self.rate / 2))
        log.warning("pushed back", pause_s=round(pause, 3), rate=round(self.rate, 3))

    def succeeded(self) -> None:
        """A request got an answer: climb back slowly (additive increase)."""
        if self.rate < self.max_rate:
            self._set_rate(min(self.max_rate, self.rate + self._increase))

    def _set_rate(self, rate: float) -> None:
        if abs(rate - self.rate) < 1e-9:
            return
        self.rate = rate
        self._limiter = AsyncLimiter(1, 1 / rate)
