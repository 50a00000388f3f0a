"""The clock: how far the server's clock is from ours, and what to say when the vendor
refuses a request's timestamp.

The vendor signs over a Beijing-time ``yyyyMMddHHmmss`` timestamp and refuses one too far
from its own clock (the window is not documented; a few minutes is usual). A refusal
therefore almost always means this machine's clock is off: the message says so and shows
the local time and the Beijing time sent. The server's ``Date`` header, when it sends one,
tells how far apart the two clocks are.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

from runner.clock import BEIJING

__all__ = [
    "CLOCK_HINT",
    "SKEW_WINDOW_S",
    "names_the_timestamp",
    "server_offset",
    "skew_text",
    "timestamp_refused",
]

#: Clocks further apart than this (seconds) are said to differ.
SKEW_WINDOW_S = 300.0

#: Words of a refusal that mean "your timestamp" rather than "your signature" or "openid".
_TIMESTAMP_WORDS = ("时间戳", "timestamp", "请求已过期", "请求过期", "时间差", "clock")

CLOCK_HINT = (
    "Set this machine's clock right (turn on network time: `timedatectl set-ntp true` on "
    "Linux, Settings → Time → Sync now on Windows), then run again: it resumes where it "
    "stopped. Nothing was applied by the refused request."
)


def names_the_timestamp(return_msg: str | None) -> bool:
    """Whether a refusal's message speaks of the request's timestamp (or the clock)."""
    text = (return_msg or "").casefold()
    return any(word.casefold() in text for word in _TIMESTAMP_WORDS)


def server_offset(date_header: str | None, now: datetime) -> float | None:
    """Seconds the server's clock (its ``Date`` header) is ahead of *now*; None if unknown."""
    if not date_header or not date_header.strip():
        return None
    try:
        when = email.utils.parsedate_to_datetime(date_header.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def skew_text(offset: float) -> str:
    """``"the server's clock (its Date header) is 10 minutes ahead of this machine's"``."""
    direction = "ahead of" if offset > 0 else "behind"
    distance = _duration(abs(offset))
    return f"the server's clock (its Date header) is {distance} {direction} this machine's"


def timestamp_refused(sent_timestamp: str | None, now: datetime, offset: float | None) -> str:
    """What a refused timestamp means, with the local time, the Beijing time sent and, when
    the server's Date header is off by more than :data:`SKEW_WINDOW_S`, by how much."""
    local = now.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    sent = _beijing_text(sent_timestamp) or now.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    text = (
        "the vendor refused the request's timestamp: this machine's clock may be off "
        f"(local time {local}, Beijing time sent {sent})"
    )
    if offset is not None and abs(offset) > SKEW_WINDOW_S:
        text += f"; {skew_text(offset)}"
    return text + "; fix the clock (NTP) and run again"


def _beijing_text(timestamp: str | None) -> str | None:
    """``yyyyMMddHHmmss`` as ``yyyy-MM-dd HH:mm:ss``; None when it is not one."""
    if timestamp is None or len(timestamp) != 14 or not timestamp.isdigit():
        return None
    t = timestamp
    return f"{t[:4]}-{t[4:6]}-{t[6:8]} {t[8:10]}:{t[10:12]}:{t[12:]}"


def _duration(seconds: float) -> str:
    """Seconds in the largest fitting unit, e.g. ``"12 minutes"``, ``"3.5 hours"``."""
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} seconds"
