"""The adaptive throttle: AIMD on pushback, concurrency cap."""

from __future__ import annotations

import asyncio

from runner.execute import AdaptiveThrottle


def test_pushback_halves_the_rate_once_per_burst() -> None:
    """The first pushback of a burst halves the rate; the rest only extend the pause."""
    throttle = AdaptiveThrottle(8.0, 4)
    throttle.pushed_back(0.5)
    throttle.pushed_back(0.5)
    assert throttle.rate == 4.0
    assert throttle.pushbacks == 2


def test_successes_climb_back_to_the_configured_rate_and_no_further() -> None:
    """Additive increase restores the rate slowly and never exceeds the configured one."""
    throttle = AdaptiveThrottle(10.0, 2, increase_per_success=1.0)
    throttle.pushed_back(0.0)
    assert throttle.rate == 5.0
    throttle.succeeded()
    assert throttle.rate == 6.0
    for _ in range(10):
        throttle.succeeded()
    assert throttle.rate == 10.0


def test_rate_never_drops_below_the_floor() -> None:
    """However many pushbacks, the rate stays at or above min_rate."""
    throttle = AdaptiveThrottle(4.0, 1, min_rate=1.0)
    for _ in range(10):
        throttle.pushed_back(0.0)
    assert throttle.rate == 1.0


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
