"""The rate limit: a sliding one-second window, pushing back as HTTP 429 or as a refusal."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.sandbox import CODE_TOO_FREQUENT
from runner.sandbox._ratelimit import RateLimiter
from runner.sandbox.testing import inspect, running_sandbox, signed_post


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _offer(rate: float, times: list[float]) -> list[bool]:
    """Whether a limiter at ``rate`` accepts a request at each of ``times`` (ascending)."""
    fake = FakeTime()
    limiter = RateLimiter(rate, clock=fake)
    answers = []
    for moment in times:
        fake.now = moment
        answers.append(limiter.allow())
    return answers


def test_a_full_window_waits_a_whole_second_not_a_refill() -> None:
    """At rate 2 a burst of 2 passes; half a second later is still refused (a token bucket
    would let one through), one second after the burst both places are free again."""
    assert _offer(2, [100.0, 100.0, 100.0, 100.5, 101.0, 101.0, 101.0]) == [
        *(True, True, False, False),
        *(True, True, False),
    ]


_ARRIVALS = st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), max_size=300)


@settings(max_examples=200, deadline=None)
@given(rate=st.integers(min_value=1, max_value=40), arrivals=_ARRIVALS)
def test_no_one_second_window_holds_more_than_the_rate(rate: int, arrivals: list[float]) -> None:
    """For any arrivals, every one-second window [t, t + 1) holds at most ``rate`` accepted
    requests, and a request is refused only when the second before it already holds
    ``rate`` of them (exact: nothing is refused that would fit)."""
    times = sorted(arrivals)
    answers = _offer(rate, times)
    accepted = [t for t, ok in zip(times, answers, strict=True) if ok]
    for start in accepted:
        assert sum(1 for t in accepted if start <= t < start + 1) <= rate
    for moment, ok in zip(times, answers, strict=True):
        before = sum(1 for t in accepted if moment - 1 < t <= moment)
        assert ok or before == rate


def test_a_steady_client_just_below_the_rate_is_never_pushed_back() -> None:
    """Requests on a fixed schedule at 0.98 of the rate (start i at t0 + i / rate), for 20
    seconds, are all accepted, at 5, 50, 200 and 500 a second."""
    for rate in (5, 50, 200, 500):
        pace = 0.98 * rate
        times = [100.0 + i / pace for i in range(int(20 * pace))]
        assert all(_offer(rate, times)), rate


def test_a_steady_client_at_the_rate_is_accepted_only_up_to_it() -> None:
    """A client asking 1.5 times the rate for 10 seconds gets exactly the rate accepted
    each second (no burst beyond it), the rest pushed back."""
    times = [100.0 + i / 30 for i in range(300)]
    answers = _offer(20, times)
    per_second = [sum(answers[s * 30 : (s + 1) * 30]) for s in range(10)]
    assert per_second == [20] * 10


def test_a_rate_below_one_allows_one_request_per_period() -> None:
    """At rate 0.5 one request passes in any 2 seconds."""
    assert _offer(0.5, [100.0, 101.0, 101.9, 102.0, 103.5, 104.0]) == [
        *(True, False, False, True, False, True),
    ]


def test_a_fractional_rate_allows_its_whole_part() -> None:
    """At rate 2.5 at most 2 requests pass in any second."""
    assert _offer(2.5, [100.0, 100.1, 100.2, 100.9, 101.0, 101.1, 101.2]) == [
        *(True, True, False, False, True, True, False),
    ]


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
