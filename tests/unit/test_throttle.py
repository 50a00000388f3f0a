"""The adaptive throttle: a grid that does not drift, the limit estimated on pushback, the cap.

Timing is on a fake clock whose ``sleep`` advances it (plus a chosen lateness), so nothing
here depends on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from runner.execute import AdaptiveThrottle, RateBudget
from runner.execute._rate_limit import ESTIMATE_SHARE, HEADROOM, MAX_CATCH_UP_S, SETTLE_S

#: Times are sums of floats: equal means within this.
EPS = 1e-9


class FakeTime:
    """A clock that moves only when someone sleeps on it; each wake-up comes *late* late."""

    def __init__(self, now: float = 100.0, late: float = 0.0) -> None:
        self.now = now
        self.late = late

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += max(0.0, delay) + self.late
        await asyncio.sleep(0)


def throttle_on(fake: FakeTime, rate: float, concurrency: int = 1, **kw: float) -> AdaptiveThrottle:
    return AdaptiveThrottle(rate, concurrency, clock=fake, sleep=fake.sleep, **kw)


async def starts(throttle: AdaptiveThrottle, fake: FakeTime, n: int) -> list[float]:
    """The clock time at which each of *n* requests, one after another, got its slot."""
    found = []
    for _ in range(n):
        async with throttle.slot():
            found.append(fake.now)
    return found


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def test_late_wake_ups_do_not_drift_the_schedule() -> None:
    """Every wake-up 4 ms late: start i is still t0 + i / pace (+ the one lateness)."""
    fake = FakeTime(late=0.004)
    throttle = throttle_on(fake, 10.0)
    found = await starts(throttle, fake, 200)
    interval = 1 / (10.0 * HEADROOM)
    assert found[0] == 100.0
    assert found[-1] == pytest.approx(100.0 + 199 * interval + 0.004, abs=EPS)
    assert all(gap == pytest.approx(interval, abs=EPS) for gap in gaps(found[1:]))


async def test_paced_at_the_headroom_below_the_rate() -> None:
    """On time, starts are one 1 / (0.98 x rate) apart: under the limit in every second."""
    fake = FakeTime()
    found = await starts(throttle_on(fake, 50.0), fake, 101)
    assert all(gap == pytest.approx(1 / (50.0 * HEADROOM), abs=EPS) for gap in gaps(found))
    assert sum(t < found[0] + 1.0 for t in found) <= 50


async def test_a_start_later_than_the_catch_up_restarts_the_grid() -> None:
    """A wake-up later than MAX_CATCH_UP_S is not made up for by starting the next early."""
    fake = FakeTime(late=MAX_CATCH_UP_S * 3)
    found = await starts(throttle_on(fake, 10.0), fake, 20)
    interval = 1 / (10.0 * HEADROOM)
    assert all(gap >= interval - EPS for gap in gaps(found))


async def test_no_burst_after_idle() -> None:
    """After an idle spell the grid restarts at now: the skipped slots are not handed out."""
    fake = FakeTime()
    throttle = throttle_on(fake, 10.0)
    await starts(throttle, fake, 3)
    fake.now += 50.0
    idle_end = fake.now
    found = await starts(throttle, fake, 5)
    assert found[0] == idle_end
    assert all(gap == pytest.approx(1 / (10.0 * HEADROOM), abs=EPS) for gap in gaps(found))


async def test_a_rate_change_applies_to_the_request_already_waiting() -> None:
    """The waiting request re-reads the rate: a lower rate delays it at once."""
    fake = FakeTime()
    throttle = throttle_on(fake, 100.0)
    await starts(throttle, fake, 1)
    throttle.rate = 1.0
    (second,) = await starts(throttle, fake, 1)
    assert second >= 100.0 + 1 / HEADROOM - EPS


async def accepted(throttle: AdaptiveThrottle, fake: FakeTime, per_s: float, n: int) -> None:
    """One start, then *n* answers *per_s* apart on the clock."""
    await starts(throttle, fake, 1)
    for _ in range(n):
        fake.now += 1 / per_s
        throttle.succeeded()


async def test_pushback_sets_the_rate_from_the_accepted_rate() -> None:
    """Asked 300/s, the server answered 200 in the last second: the rate becomes 0.95 x 200."""
    fake = FakeTime()
    throttle = throttle_on(fake, 300.0)
    await accepted(throttle, fake, 200.0, 400)
    assert throttle.accepted_rate() == pytest.approx(200.0, abs=1)
    throttle.pushed_back(None)
    estimate = throttle.accepted_rate()
    assert throttle.rate == pytest.approx(ESTIMATE_SHARE * estimate)
    assert throttle.pushbacks == 1


async def test_the_rest_of_a_burst_does_not_cut_again_and_the_estimate_does_not_halve() -> None:
    """Pushbacks within SETTLE_S are the same burst; a later one at the same accepted rate
    gives the same estimate: the rate does not ratchet down the way halving did."""
    fake = FakeTime()
    throttle = throttle_on(fake, 300.0)
    await accepted(throttle, fake, 200.0, 400)
    throttle.pushed_back(None)
    cut = throttle.rate
    throttle.pushed_back(None)
    throttle.pushed_back(None)
    assert throttle.rate == cut
    fake.now += SETTLE_S
    for _ in range(int(200 * SETTLE_S)):  # still answered at 200/s meanwhile
        throttle.succeeded()
    throttle.pushed_back(None)
    assert throttle.rate == pytest.approx(cut, rel=0.05)
    assert throttle.pushbacks == 4


async def test_without_answers_to_go_by_the_rate_halves_down_to_the_floor() -> None:
    """No answer in the last second: nothing to estimate from, so halve; never below min_rate."""
    fake = FakeTime()
    throttle = throttle_on(fake, 4.0, min_rate=1.0)
    throttle.pushed_back(None)
    assert throttle.rate == 2.0
    for _ in range(10):
        fake.now += SETTLE_S
        throttle.pushed_back(None)
    assert throttle.rate == 1.0


async def test_the_rate_probes_upward_slowly_and_no_further_than_configured() -> None:
    """Without pushback the rate grows 1 % per second, up to the configured rate."""
    fake = FakeTime()
    throttle = throttle_on(fake, 300.0)
    await accepted(throttle, fake, 200.0, 400)
    throttle.pushed_back(None)
    cut = throttle.rate
    fake.now += 10.0
    throttle.succeeded()
    assert throttle.rate == pytest.approx(cut * 1.01**10)
    fake.now += 1000.0
    throttle.succeeded()
    assert throttle.rate == 300.0


async def test_retry_after_pauses_every_request() -> None:
    """A Retry-After of 2 s: no request starts before it has passed."""
    fake = FakeTime()
    throttle = throttle_on(fake, 100.0, concurrency=4)
    await accepted(throttle, fake, 100.0, 200)
    pushed_at = fake.now
    throttle.pushed_back(2.0)
    found: list[float] = []

    async def request() -> None:
        async with throttle.slot():
            found.append(fake.now)

    await asyncio.gather(*(request() for _ in range(4)))
    assert min(found) >= pushed_at + 2.0 - EPS
    assert all(gap >= 1 / (throttle.rate * HEADROOM) - EPS for gap in gaps(sorted(found)))


async def test_after_a_pause_the_accepted_rate_is_counted_from_its_end() -> None:
    """Answers from before a Retry-After pause do not count; a count across the pause would
    make the estimate too low."""
    fake = FakeTime()
    throttle = throttle_on(fake, 300.0)
    await accepted(throttle, fake, 200.0, 400)
    throttle.pushed_back(5.0)
    await starts(throttle, fake, 1)
    for _ in range(50):  # 50 answers in the first quarter second after the pause
        fake.now += 0.005
        throttle.succeeded()
    assert throttle.accepted_rate() == pytest.approx(50 / 0.5)  # over at least half a second


async def test_the_budget_still_receives_pushbacks() -> None:
    """A Retry-After pauses every run on the shared budget; the budget's rate is its own."""
    budget = RateBudget(100.0)
    throttle = AdaptiveThrottle(100.0, 2, budget=budget)
    before = time.monotonic()
    throttle.pushed_back(3.0)
    assert budget.paused_until >= before + 3.0
    assert budget.rate == 100.0


def test_pushback_without_retry_after_does_not_pause_by_default() -> None:
    """The lower rate is the remedy; only a Retry-After (or default_pause_s) pauses."""
    fake = FakeTime()
    throttle = throttle_on(fake, 10.0)
    throttle.pushed_back(None)
    assert throttle._pause_end() <= fake.now
    paused = throttle_on(fake, 10.0, default_pause_s=1.5)
    paused.pushed_back(None)
    assert paused._pause_end() == pytest.approx(fake.now + 1.5)


async def test_no_more_than_concurrency_requests_in_flight() -> None:
    """The semaphore caps requests in flight at the configured concurrency."""
    throttle = AdaptiveThrottle(1000.0, 3)
    in_flight = peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with throttle.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    await asyncio.gather(*(request() for _ in range(12)))
    assert peak == 3
