"""The pacing port: the hook the client calls around every HTTP attempt.

The executor supplies the adaptive implementation (``runner.execute.AdaptiveThrottle``:
rate, pauses after pushback); the client only promises to wrap each attempt, every
pagination page included, in ``async with throttle.slot():`` and to report how it went.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

__all__ = ["NoThrottle", "Throttle", "concurrency_of"]


class Throttle(Protocol):
    """Paces calls: a slot per HTTP attempt, told about pushback and success."""

    def slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Wait for permission to make one HTTP attempt; held while it runs."""
        ...

    def pushed_back(self, retry_after: float | None) -> None:
        """The attempt was pushed back (429, 503 + Retry-After, "too frequent", busy)."""
        ...

    def succeeded(self) -> None:
        """The attempt got a ``return_code`` "0" answer."""
        ...


class NoThrottle:
    """No pacing at all: every slot is granted at once."""

    def slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        """An immediately available slot."""
        return contextlib.nullcontext()

    def pushed_back(self, retry_after: float | None) -> None:
        """Ignored."""

    def succeeded(self) -> None:
        """Ignored."""


def concurrency_of(throttle: Throttle) -> int | None:
    """The most attempts *throttle* lets run at once (its ``concurrency``), if it says."""
    concurrency = getattr(throttle, "concurrency", None)
    return concurrency if isinstance(concurrency, int) and concurrency > 0 else None
