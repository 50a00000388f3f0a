"""Adaptive rate limiting for every request of a run, all endpoints together.

An :class:`AdaptiveThrottle` is the ``Throttle`` the API client wraps each HTTP attempt
in. It combines three things:

- pacing on a grid that does not drift: start *i* is planned at ``t0 + i / pace``, each
  start planned one interval after the previous *planned* start, not the actual one, so a
  late wake-up of the event loop does not push every later start back. A caller that comes
  more than :data:`MAX_CATCH_UP_S` after its planned time (the run was idle, paused, or the
  loop stalled) starts *now* and the grid restarts there: no burst of saved-up slots. The
  pace is :data:`HEADROOM` (0.98) x the rate, so that catching up on a late wake-up, and
  the jitter of network latency, keep every one-second window under the limit. The waiting
  request re-reads the *current* rate, so a rate that changes applies at once;
- a count of the *actual* starts: at most the limit's whole part in any 1.001 s (the
  grid spaces planned starts; a late wake-up followed by an on-time one would put two
  actual starts closer, and a sliding one-second limit on the server counts those);
- a semaphore: at most ``concurrency`` requests in flight;
- adapting to a limit it was not told: on pushback (429, 503 + Retry-After, "too
  frequent") the rate is set to :data:`ESTIMATE_SHARE` (0.95) x the *accepted* rate, the
  answers counted in the last second -- the best estimate of the server's limit -- instead
  of halving, which undershoots and then climbs back into the limit again. A Retry-After
  pauses every request until it has passed. Pushbacks within :data:`SETTLE_S` of a cut
  are the rest of the same burst (requests already in flight) and do not cut again. Without
  pushback, the rate probes upward by ``probe_per_s`` (1 %) per second, up to the
  configured rate, so a limit that rises is found again (at the cost of one pushback per
  probe cycle of about 8 s against a fixed limit).

Measured (``python -m bench.pacing``: fake transport, 50 +- 20 ms latency, a sliding
one-second limit, concurrency 32, the 2-core dev machine; table in that module): at a known
limit of 50/200/500 per second this throttle reaches 0.970-0.976 of it (two runs), with no
one-second window over the limit and no pushback (the drifting pacer before it: 0.954 /
0.901 / 0.840). ``asynciolimiter.Limiter`` at the same 0.98 pace reaches 0.944-0.975, and in
one of the two runs put 51 requests in a second at 50/s (2-3 pushbacks): it catches up on
late wake-ups with bursts (up to ``max_burst``; at 1 too, from its leftover time). It is
no better, and it has no pause, no concurrency cap and no adaptation, which would all be
built around it anyway, so the own grid (a few lines) is kept. With an unknown limit
(server 200/s, campaign 300/s, 15-21 s) the throttle holds 0.952-0.958 of the limit overall,
>= 0.90 from the first second on, 0.92-0.995 per second after 10 s, with 1-2 pushbacks
per 10 s once settled (halving before it: 0.52, 169 pushbacks, seconds alternating between
200 and 0 answers).

With a :class:`~runner.execute.RateBudget` (runs of one tenant side by side, each in its own
thread and event loop), each request then also waits for the start time the shared budget
gives it, a pushback's pause (Retry-After) pauses every run sharing the budget, and each run
honours that pause. The estimate of the limit is a run's own (its share), so it lowers this
run's rate, not the budget's. Without a budget, nothing of the budget applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

from runner.execute._budget import RateBudget, admit_start

__all__ = ["ESTIMATE_SHARE", "HEADROOM", "MAX_CATCH_UP_S", "SETTLE_S", "AdaptiveThrottle"]

log = structlog.get_logger(__name__)

#: While waiting for its turn, a request re-reads the rate at least this often.
_RECHECK_S = 0.05
#: Requests start at this share of the rate: room for late wake-ups and latency jitter.
HEADROOM = 0.98
#: A start this late or less keeps the grid (catches up); a later one restarts it at now.
#: With HEADROOM 0.98 a catch-up of up to ~20 ms still fits in every one-second window.
MAX_CATCH_UP_S = 0.01
#: On pushback the rate becomes this share of the rate the server accepted.
ESTIMATE_SHARE = 0.95
#: Pushbacks this soon after a cut are the same burst: they do not cut again.
SETTLE_S = 0.25
#: The accepted rate is counted over the last second, or over at least this long.
_MIN_SPAN_S = 0.5


def _cap(limit: float) -> int:
    """At most this many starts in any window: the limit's whole part (at least one)."""
    return max(1, int(limit + 1e-6))


class AdaptiveThrottle:
    """Rate (requests/second) and concurrency limits that adapt to pushback."""

    def __init__(
        self,
        rate: float,
        concurrency: int,
        *,
        min_rate: float = 0.2,
        probe_per_s: float = 0.01,
        default_pause_s: float = 0.0,
        budget: RateBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.max_rate = rate
        self.min_rate = min(min_rate, rate)
        self.rate = rate
        self._probe = probe_per_s
        self._default_pause = default_pause_s
        self._clock = clock
        self._sleep = sleep
        self._pace = asyncio.Lock()
        self._planned = float("-inf")  # the planned time of the last start
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._paused_until = float("-inf")
        self._accepted: deque[float] = deque()  # answers in the last second
        self._starts: deque[float] = deque()  # actual starts in the last window
        self._since = float("inf")  # the accepted count starts here (first start, pause end)
        self._cut_at = float("-inf")  # when the rate was last cut
        self._probe_from = (0.0, rate)  # (when, rate): the probe upward grows from there
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
            else:
                await self._wait_window()
            yield

    async def _wait_window(self) -> None:
        # The grid spaces planned starts; a late wake-up followed by an on-time one puts
        # two actual starts closer. Counting actual starts keeps every window under the
        # limit. No await between the check and the append: one coroutine at a time.
        cap = _cap(self.max_rate)
        while (retry_at := admit_start(self._starts, self._clock(), cap)) is not None:
            await self._sleep_until(retry_at)

    async def _wait_turn(self) -> None:
        # One request at a time waits for its turn; it sleeps in short steps so that a
        # pause that starts, or a rate that changes, while it waits is honoured at once.
        async with self._pace:
            while True:
                await self._wait_pause()
                now = self._clock()
                due = self._planned + 1 / (self.rate * HEADROOM)
                if due <= now:
                    break
                await self._sleep(min(due - now, _RECHECK_S))
            # on time or a little late: keep the grid; later than that: restart it at now
            self._planned = due if now - due <= MAX_CATCH_UP_S else now
            self._since = min(self._since, now)

    async def _wait_budget(self, budget: RateBudget) -> None:
        # The start time the tenant's budget gives; a pause that began while we waited
        # for it (another run was pushed back) is waited out and a new start time taken.
        # The start is then counted in the budget's window of actual starts (all sharers).
        while True:
            await self._sleep_until(budget.reserve())
            if self._pause_end() <= self._clock():
                break
            await self._wait_pause()
        cap = _cap(budget.rate / HEADROOM)
        while (retry_at := budget.admit(cap)) is not None:
            await self._sleep_until(retry_at)

    async def _wait_pause(self) -> None:
        # A loop, not an Event: another pushback may extend the pause while we sleep.
        while (delay := self._pause_end() - self._clock()) > 0:
            await self._sleep(delay)

    async def _sleep_until(self, when: float) -> None:
        # A timer may fire a hair early: sleep again until the clock has reached *when*.
        while (delay := when - self._clock()) > 0:
            await self._sleep(delay)

    def _pause_end(self) -> float:
        """When this run's pause ends: its own, or the shared budget's if that is later."""
        if self.budget is None:
            return self._paused_until
        return max(self._paused_until, self.budget.paused_until)

    def pushed_back(self, retry_after: float | None) -> None:
        """The server pushed back: set the rate from the accepted rate; honour Retry-After."""
        self.pushbacks += 1
        now = self._clock()
        pause = retry_after if retry_after is not None else self._default_pause
        if now - self._cut_at >= SETTLE_S:  # a new pushback, not the rest of the same burst
            estimate = self.accepted_rate(now)
            cut = ESTIMATE_SHARE * estimate if estimate else self.rate / 2
            self._set_rate(max(self.min_rate, min(self.rate, cut)), now)
            self._cut_at = now
        if pause > 0:
            self._paused_until = max(self._paused_until, now + pause)
            # the count of accepted answers restarts after the pause: the server's window
            # then holds none of ours, and a count across the pause would be too low
            self._since = self._paused_until
            self._accepted.clear()
        if self.budget is not None:
            self.budget.pushback(now + pause)
        log.warning("pushed back", pause_s=round(pause, 3), rate=round(self.rate, 3))

    def succeeded(self) -> None:
        """A request got an answer: count it, and probe the rate upward slowly."""
        now = self._clock()
        accepted = self._accepted
        accepted.append(now)
        while accepted[0] < now - 1.0:
            accepted.popleft()
        if self.rate < self.max_rate:
            since, base = self._probe_from
            self.rate = min(self.max_rate, base * (1 + self._probe) ** (now - since))

    def accepted_rate(self, now: float | None = None) -> float:
        """Answers per second over the last second (0.0 if there is nothing to go by).

        Counted since the first start or the end of the last pause, if that is less than a
        second ago, but over at least half a second (a start-up burst is no rate).
        """
        now = self._clock() if now is None else now
        accepted = self._accepted
        while accepted and accepted[0] < now - 1.0:
            accepted.popleft()
        span = min(1.0, max(_MIN_SPAN_S, now - self._since))
        return len(accepted) / span

    def _set_rate(self, rate: float, now: float) -> None:
        self.rate = rate
        self._probe_from = (now, rate)
