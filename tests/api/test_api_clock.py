"""A refused timestamp names the clock; a server Date header far from ours is said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from structlog.testing import capture_logs

from runner.api import Credentials, VoucherClient
from runner.api._skew import (
    CLOCK_HINT,
    SKEW_WINDOW_S,
    names_the_timestamp,
    server_offset,
    timestamp_refused,
)
from runner.errors import CredentialsRejected, ExitCode

from .fakevendor import FakeVendor, envelope

EXPIRED = "时间戳已过期,请校准时间后重试"


def refusal(msg: str = EXPIRED, *, date_offset: timedelta | None = None) -> httpx.Response:
    headers = {}
    if date_offset is not None:
        headers["Date"] = format_datetime(datetime.now(UTC) + date_offset, usegmt=True)
    return envelope(None, code="1002", msg=msg, headers=headers)


async def finish(creds: Credentials, vendor: FakeVendor) -> CredentialsRejected:
    async with VoucherClient(creds, transport=vendor.transport()) as client:
        with pytest.raises(CredentialsRejected) as info:
            await client.finish_voucher("1")
    return info.value


async def test_a_refused_timestamp_says_the_clock_may_be_off(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """The message names the clock, the local time and the Beijing time sent, keeps the
    vendor's words, and the hint says to fix the clock; exit 4."""
    vendor.default = refusal()
    err = await finish(creds, vendor)
    sent = vendor.seen[0].timestamp
    beijing = f"{sent[:4]}-{sent[4:6]}-{sent[6:8]} {sent[8:10]}:{sent[10:12]}:{sent[12:]}"
    assert "the vendor refused the request's timestamp" in err.message
    assert "this machine's clock may be off" in err.message
    assert f"Beijing time sent {beijing}" in err.message
    assert "local time " in err.message
    assert "fix the clock (NTP) and run again" in err.message
    assert f"return_msg='{EXPIRED}'" in err.message
    assert err.return_msg == EXPIRED
    assert err.exit_code == ExitCode.ENVIRONMENT
    assert err.hint == CLOCK_HINT
    assert "Date header" not in err.message  # none was sent


async def test_a_server_date_far_from_ours_is_said_with_the_refusal(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A Date header 20 minutes ahead adds how far the server's clock is from ours."""
    vendor.default = refusal(date_offset=timedelta(minutes=20))
    err = await finish(creds, vendor)
    assert "the server's clock (its Date header) is 20 minutes ahead of this machine's" in (
        err.message
    )


async def test_a_server_date_close_to_ours_adds_nothing(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A Date header within the window says nothing about the server's clock."""
    vendor.default = refusal(date_offset=timedelta(seconds=30))
    err = await finish(creds, vendor)
    assert "Date header" not in err.message
    assert "clock may be off" in err.message


async def test_a_signature_refusal_keeps_the_credentials_hint(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A refused signature is not blamed on the clock."""
    vendor.default = refusal("签名错误,请检查digest")
    err = await finish(creds, vendor)
    assert "clock may be off" not in err.message
    assert "WAIQIN_APPKEY" in (err.hint or "")


async def test_answers_from_a_server_whose_clock_is_far_off_warn_once(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """Successful answers dated an hour behind: one warning per client, not one per call."""
    behind = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    vendor.default = envelope(None, headers={"Date": behind})
    with capture_logs() as logged:
        async with VoucherClient(creds, transport=vendor.transport()) as client:
            await client.finish_voucher("1")
            await client.finish_voucher("2")
    warnings = [line for line in logged if line["event"] == "clocks differ"]
    assert len(warnings) == 1
    assert "behind this machine's" in warnings[0]["detail"]
    assert warnings[0]["offset_s"] < -SKEW_WINDOW_S


@pytest.mark.parametrize(
    ("message", "names_it"),
    [
        (EXPIRED, True),
        ("timestamp expired", True),
        ("请求已过期", True),
        ("签名错误", False),
        ("优惠券已过期", False),  # the voucher expired, not the request
        (None, False),
    ],
)
def test_which_refusals_speak_of_the_timestamp(message: str | None, names_it: bool) -> None:
    """Only the request's timestamp (or clock) counts, not a voucher that expired."""
    assert names_the_timestamp(message) is names_it


def test_server_offset_reads_http_dates_and_ignores_garbage() -> None:
    """An HTTP date gives seconds ahead of now; garbage or absence gives None."""
    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    ahead = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert server_offset(ahead, now) == 90.0
    assert server_offset("yesterday-ish", now) is None
    assert server_offset(None, now) is None


def test_the_message_formats_the_sent_timestamp_in_beijing_time() -> None:
    """yyyyMMddHHmmss is shown as yyyy-MM-dd HH:mm:ss; a skew over the window is added."""
    now = datetime(2030, 6, 1, 4, 0, tzinfo=UTC)
    text = timestamp_refused("20300601120000", now, offset=-7200.0)
    assert "Beijing time sent 2030-06-01 12:00:00" in text
    assert "is 2 hours behind this machine's" in text
