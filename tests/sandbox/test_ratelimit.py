"""The rate limit: a token bucket, pushing back as HTTP 429 or as a refusal envelope."""

from __future__ import annotations

import httpx

from runner.sandbox import CODE_TOO_FREQUENT
from runner.sandbox._ratelimit import RateLimiter
from runner.sandbox.testing import inspect, running_sandbox, signed_post


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills() -> None:
    """At rate 2 a burst of 2 passes, the third waits until half a second has passed."""
    fake = FakeTime()
    limiter = RateLimiter(2, clock=fake)
    assert [limiter.allow() for _ in range(3)] == [True, True, False]
    fake.now += 0.5
    assert [limiter.allow(), limiter.allow()] == [True, False]


def test_no_rate_means_no_limit() -> None:
    """Without a rate every request is allowed."""
    limiter = RateLimiter(None)
    assert all(limiter.allow() for _ in range(1000))


def burst(base_url: str) -> list[httpx.Response]:
    with httpx.Client(timeout=10) as client:
        return [signed_post(base_url, "getVoucherInfos", {}, client=client) for _ in range(10)]


def test_http429_mode_pushes_back_with_retry_after() -> None:
    """Over the rate, the sandbox answers 429 with Retry-After: 1 and no envelope."""
    with running_sandbox(rate=2, rate_mode="http429") as server:
        responses = burst(server.base_url)
        state = inspect(server.base_url)
    pushed = [r for r in responses if r.status_code == 429]
    assert pushed
    assert pushed[0].headers["retry-after"] == "1"
    assert "return_code" not in pushed[0].text
    assert state["counters"]["getVoucherInfos"]["rate_limited"] == len(pushed)


def test_refusal_mode_pushes_back_with_a_too_frequent_envelope() -> None:
    """In refusal mode, over the rate is HTTP 200 with the 'too frequent' return code."""
    with running_sandbox(rate=2, rate_mode="refusal") as server:
        responses = burst(server.base_url)
    assert all(r.status_code == 200 for r in responses)
    refused = [r.json() for r in responses if r.json()["return_code"] == CODE_TOO_FREQUENT]
    assert refused
    assert refused[0]["return_msg"] == "接口调用过于频繁,请稍后再试"
