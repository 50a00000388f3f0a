"""One rate budget shared by every run of a tenant, whatever thread or event loop it runs in.

Several campaigns of the same tenant may run side by side, each ``run_campaign`` in its own
worker thread with its own ``asyncio.run``. The vendor's limit is per tenant, so their
requests together must stay under it. A :class:`RateBudget` hands out start times on one
fixed grid -- start *i* at ``t0 + i/rate`` -- so the starts never drift apart from the
rate, and a caller that comes after its slot starts *now* and restarts the grid from there:
an idle budget saves no slots up for a burst. A pushback seen by one run pauses them all.

Hand-written on purpose, and small: it holds only a ``threading.Lock`` and numbers, no
asyncio object, because each run has its own event loop (callers sleep with their own
loop's ``asyncio.sleep``). The libraries looked at do not fit: ``aiolimiter`` is asyncio
only (not for several threads and loops) and lets a full bucket burst; ``limiter`` is a
token bucket, bursts up to its capacity by design; ``limits`` counts hits in fixed or
moving windows (bursts at a window's edge) and answers yes/no rather than a start time;
``pyrate-limiter`` counts N per window -- at N=1 it would space requests, but its rates
are fixed per bucket and it has nothing like a pause shared after a 429. Lowering the rate
in place and the shared pause are what is needed here, and they are a few lines.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["WINDOW_S", "RateBudget", "admit_start"]


class RateBudget:
    """Start times for requests from any thread: ``rate`` per second on a grid, no bursts."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        _check_rate(rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = float(rate)
        self._t0: float | None = None  # the grid's slot 0; None until the first reserve
        self._taken = 0  # slots of the current grid handed out
        self._last: float | None = None  # the last slot handed out
        self._paused_until = float("-inf")
        self._starts: deque[float] = deque()  # actual starts in the last window

    @property
    def rate(self) -> float:
        """Requests per second, all sharers together."""
        return self._rate

    @rate.setter
    def rate(self, rate: float) -> None:
        _check_rate(rate)
        with self._lock:
            self._set_rate(float(rate))

    def limit_to(self, rate: float) -> None:
        """Lower the rate to *rate* if it is below the current one (never raises it)."""
        _check_rate(rate)
        with self._lock:
            if rate < self._rate:
                self._set_rate(float(rate))

    @property
    def paused_until(self) -> float:
        """The clock time before which no sharer may start a request."""
        return self._paused_until

    def reserve(self) -> float:
        """Take the next slot: the clock time at which the caller may start its request."""
        with self._lock:
            slot = self._grid_slot()
            earliest = max(self._clock(), self._paused_until)
            if slot is None or slot < earliest:  # late, idle or paused: no saved-up slots
                slot = earliest
                self._t0, self._taken = slot, 0
            self._taken += 1
            self._last = slot
            return slot

    def admit(self, cap: int) -> float | None:
        """Record a start now if the last :data:`WINDOW_S` holds fewer than *cap* starts of
        any sharer; else return the clock time at which to ask again.

        The grid spaces the *planned* starts; a sharer whose thread woke late starts late,
        and the next one on time, so two actual starts can come closer than the grid's
        interval. Counting the actual starts keeps every window under the limit anyway.
        """
        with self._lock:
            return admit_start(self._starts, self._clock(), cap)

    def pushback(self, until: float) -> None:
        """The server pushed back: no sharer starts a request before *until*."""
        with self._lock:
            self._paused_until = max(self._paused_until, until)

    def _grid_slot(self) -> float | None:
        return None if self._t0 is None else self._t0 + self._taken / self._rate

    def _set_rate(self, rate: float) -> None:
        # The next slot is one new interval after the last one: a new grid starts there.
        self._rate = rate
        if self._last is not None:
            self._t0, self._taken = self._last + 1 / rate, 0


#: The window the actual starts are counted in: the vendor's second, and a hair more.
WINDOW_S = 1.001


def admit_start(starts: deque[float], now: float, cap: int) -> float | None:
    """Append *now* to *starts* if fewer than *cap* are within :data:`WINDOW_S` of it;
    else the time the oldest leaves the window."""
    while starts and starts[0] <= now - WINDOW_S:
        starts.popleft()
    if len(starts) < cap:
        starts.append(now)
        return None
    return starts[0] + WINDOW_S


def _check_rate(rate: float) -> None:
    if not rate > 0:
        raise ValueError(f"rate must be positive, not {rate}")
