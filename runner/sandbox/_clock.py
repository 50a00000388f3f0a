"""The sandbox's sense of time: Beijing wall-clock time, replaceable in tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

__all__ = ["BEIJING", "Clock", "ManualClock", "beijing_now"]

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

Clock = Callable[[], datetime]
"""A zero-argument callable returning an aware datetime (the sandbox reads it in Beijing time)."""


def beijing_now() -> datetime:
    """The current time in Beijing (UTC+8), the vendor's time zone."""
    return datetime.now(BEIJING)


class ManualClock:
    """A clock that only moves when told to; safe to move from another thread."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._now = start if start.tzinfo is not None else start.replace(tzinfo=BEIJING)

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (a naive datetime is read as Beijing time)."""
        with self._lock:
            self._now = when if when.tzinfo is not None else when.replace(tzinfo=BEIJING)

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        with self._lock:
            self._now = self._now + delta
