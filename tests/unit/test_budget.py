"""The shared rate budget: a grid that does not drift, no bursts, threads, a shared pause."""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest

from runner.execute import AdaptiveThrottle, RateBudget
from runner.execute._budget import WINDOW_S

#: Slots are sums of floats: equal or spaced "exactly" means within this.
EPS = 1e-9


class FakeClock:
    """A clock that only moves when the test moves it."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def gaps(slots: list[float]) -> list[float]:
    """The distances between consecutive slots."""
    return [b - a for a, b in itertools.pairwise(slots)]


def test_slots_stay_on_the_grid_however_late_each_caller_starts() -> None:
    """Each caller starts a little after its slot; slot i is still t0 + i/rate, no drift."""
    clock = FakeClock()
    budget = RateBudget(10.0, clock=clock)
    slots = []
    for _ in range(1000):
        slot = budget.reserve()
        slots.append(slot)
        clock.now = slot + 0.03  # the caller wakes 30 ms late, before its next slot
    assert slots[0] == 100.0
    assert slots[-1] == pytest.approx(100.0 + 999 / 10.0, abs=EPS)
    assert all(gap == pytest.approx(0.1, abs=EPS) for gap in gaps(slots))


def test_callers_arriving_together_are_spread_one_interval_apart() -> None:
    """Reserves at the same instant get consecutive slots, not the same one."""
    budget = RateBudget(4.0, clock=FakeClock(0.0))
    assert [budget.reserve() for _ in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_no_burst_after_idle() -> None:
    """After an idle spell the grid restarts at now: the skipped slots are not handed out."""
    clock = FakeClock(0.0)
    budget = RateBudget(10.0, clock=clock)
    budget.reserve()
    budget.reserve()
    clock.now = 50.0
    slots = [budget.reserve() for _ in range(5)]
    assert slots[0] == 50.0
    assert all(gap == pytest.approx(0.1, abs=EPS) for gap in gaps(slots))


def test_limit_to_lowers_the_rate_and_never_raises_it() -> None:
    """The smallest campaign rate wins; the next slot is one new interval after the last."""
    budget = RateBudget(10.0, clock=FakeClock(0.0))
    assert budget.reserve() == 0.0
    budget.limit_to(20.0)
    assert budget.rate == 10.0
    budget.limit_to(2.0)
    assert budget.rate == 2.0
    assert budget.reserve() == pytest.approx(0.5, abs=EPS)
    assert budget.reserve() == pytest.approx(1.0, abs=EPS)


def test_rate_can_be_set_either_way() -> None:
    """Setting the rate applies from the next slot on."""
    budget = RateBudget(1.0, clock=FakeClock(0.0))
    budget.reserve()
    budget.rate = 4.0
    assert budget.reserve() == pytest.approx(0.25, abs=EPS)


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_rate_must_be_positive(rate: float) -> None:
    """A rate of zero or below is refused."""
    with pytest.raises(ValueError, match="positive"):
        RateBudget(rate)


def test_threads_get_distinct_slots_one_interval_apart() -> None:
    """4 threads reserving at once get exactly the grid's slots: none shared, none skipped."""
    rate, per_thread, threads = 50.0, 250, 4

    def clock() -> float:
        time.sleep(0)  # let another thread run in the middle of a reserve, if it could
        return 0.0

    budget = RateBudget(rate, clock=clock)
    start = threading.Barrier(threads)
    taken: list[list[float]] = [[] for _ in range(threads)]

    def reserve_many(mine: list[float]) -> None:
        start.wait()
        mine.extend(budget.reserve() for _ in range(per_thread))

    workers = [threading.Thread(target=reserve_many, args=(mine,)) for mine in taken]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(mine == sorted(mine) and len(set(mine)) == per_thread for mine in taken)
    slots = sorted(slot for mine in taken for slot in mine)
    assert len(set(slots)) == threads * per_thread
    assert slots == [i / rate for i in range(threads * per_thread)]


def test_pushback_pauses_every_sharer_then_the_grid_resumes() -> None:
    """After a pushback no slot starts before its end, whoever asks, and none bunch up."""
    clock = FakeClock(0.0)
    budget = RateBudget(10.0, clock=clock)
    budget.reserve()
    budget.pushback(until=3.0)
    budget.pushback(until=2.0)  # an earlier end does not shorten the pause
    assert budget.paused_until == 3.0
    found: list[float] = []
    sharers = [threading.Thread(target=lambda: found.append(budget.reserve())) for _ in range(3)]
    for sharer in sharers:
        sharer.start()
    for sharer in sharers:
        sharer.join()
    assert sorted(found) == pytest.approx([3.0, 3.1, 3.2], abs=EPS)


async def test_a_pushback_seen_by_one_throttle_pauses_the_other() -> None:
    """Two throttles on one budget: one is pushed back, the other waits out the pause."""
    budget = RateBudget(1000.0)
    pushed = AdaptiveThrottle(1000.0, 2, budget=budget)
    other = AdaptiveThrottle(1000.0, 2, budget=budget)
    async with other.slot():
        pass
    pushed.pushed_back(0.2)
    assert budget.paused_until > time.monotonic()
    async with other.slot():
        entered = time.monotonic()
    assert entered >= budget.paused_until
    assert other.rate == 1000.0  # paused, but its own rate is its own
    assert other.pushbacks == 0


def test_admit_counts_actual_starts_of_every_sharer_in_a_window() -> None:
    """The cap-th start in a window is admitted; the next waits until the oldest leaves it."""
    clock = FakeClock()
    budget = RateBudget(20.0, clock=clock)
    for i in range(20):
        clock.now = 100.0 + i * 0.03  # starts bunched by late wake-ups: 20 in 0.57 s
        assert budget.admit(20) is None
    clock.now = 100.6
    retry_at = budget.admit(20)
    assert retry_at == pytest.approx(100.0 + WINDOW_S, abs=EPS)
    clock.now = retry_at
    assert budget.admit(20) is None  # the oldest start has left the window


def test_admitted_starts_never_exceed_the_cap_in_any_window() -> None:
    """Callers asking at random moments: no window of WINDOW_S holds more than the cap."""
    clock = FakeClock()
    budget = RateBudget(20.0, clock=clock)
    admitted: list[float] = []
    rng = random.Random(7)
    while len(admitted) < 500:
        clock.now += rng.uniform(0.0, 0.08)
        if (retry_at := budget.admit(20)) is None:
            admitted.append(clock.now)
        else:
            assert retry_at > clock.now
    for i, start in enumerate(admitted):
        inside = [t for t in admitted[i:] if t < start + WINDOW_S - EPS]
        assert len(inside) <= 20
