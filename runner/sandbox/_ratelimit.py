"""A sliding-window rate limit over all operations, as a vendor's gateway enforces one.

At ``rate`` N requests per second (N of 1 or more), at most N requests are accepted in
any window of one second: a request is accepted when fewer than N were accepted in the
second before it (the window ``(now - 1 s, now]``), and pushed back otherwise. It is
exact (no bucket, no burst allowance beyond N) and costs O(1) amortised: the accepted
times wait in a deque until they leave the window. A fractional rate above 1 allows its
whole part (2.5 → 2 a second); a rate below 1 allows one request in any ``1 / rate``
seconds (0.5 → one in any 2 s). ``rate=None`` turns limiting off. A pushed-back request
is not counted: it takes no place in the window.

A client pacing itself steadily just below N a second (start *i* at ``t0 + i / rate``)
is never pushed back; one that sends N at once waits a whole second for the next.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

__all__ = ["RateLimiter", "RateMode"]

RateMode = Literal["http429", "refusal"]
"""How a request over the rate is pushed back: HTTP 429, or a 200 refusal envelope."""


class RateLimiter:
    """Accepts at most ``rate`` requests in any one-second window (None: every request)."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"rate must be positive or None, not {rate}")
        self.rate = rate
        self._clock = clock
        #: At most ``limit`` accepted requests in any window of ``window`` seconds.
        self.limit = 1 if rate is None or rate < 1 else math.floor(rate)
        self.window = 1.0 if rate is None or rate >= 1 else 1.0 / rate
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Accept this request if the last window has room; False means: push it back."""
        if self.rate is None:
            return True
        with self._lock:
            now = self._clock()
            accepted = self._accepted
            leaving = now - self.window
            while accepted and accepted[0] <= leaving:
                accepted.popleft()
            if len(accepted) >= self.limit:
                return False
            accepted.append(now)
            return True
