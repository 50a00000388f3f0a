"""A token bucket over all operations: ``rate`` requests per second, bursts up to ``rate``.

``rate=None`` turns limiting off. A refused request takes no token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

__all__ = ["RateLimiter", "RateMode"]

RateMode = Literal["http429", "refusal"]
"""How a request over the rate is pushed back: HTTP 429, or a 200 refusal envelope."""


class RateLimiter:
    """Allows about ``rate`` requests per second (None: every request)."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive or None, not {rate}")
        self.rate = rate
        self._clock = clock
        self._capacity = max(1.0, rate or 1.0)
        self._tokens = self._capacity
        self._last = clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Take a token if one is available; False means: push this request back."""
        if self.rate is None:
            return True
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._last)
            self._last = now
            self._tokens = min(self._capacity, self._tokens + elapsed * self.rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False
