"""The vendor's calendar: Beijing time (UTC+8, no daylight saving), in one place.

Signing timestamps and "end date in the past" checks use it. Nothing compares our clock
with a date the vendor stamped (a voucher's create date): the two clocks may disagree.
The sandbox keeps its own clock on purpose.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["BEIJING", "beijing_stamp", "beijing_today"]

BEIJING = timezone(timedelta(hours=8), name="Asia/Shanghai")


def beijing_today() -> date:
    """Today's date in Beijing, the vendor's calendar."""
    return datetime.now(BEIJING).date()


def beijing_stamp() -> str:
    """Now in Beijing as ISO 8601 with the offset, to the millisecond (what people read)."""
    return datetime.now(BEIJING).isoformat(timespec="milliseconds")
