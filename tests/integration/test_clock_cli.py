"""Clocks through the CLI: a vendor refusing our timestamps says the clock is off (exit 4,
nothing applied, a rerun after the fix completes), and a vendor slower than the client's
timeout gets no second copy of a grant when the run is made again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runner.cli import main
from runner.ledger import Ledger
from runner.sandbox import beijing_now
from runner.sandbox.testing import inspect, set_faults
from tests.execute.conftest import (
    APPKEY,
    CAMPAIGN,
    OPENID,
    assert_exactly_planned,
    audience,
    plan_of,
    registry,
    sandbox,
    voucher,
    write_audience,
    write_campaign,
)

WINDOW_S = 300.0


class SkewedClock:
    """The sandbox's clock: Beijing time now, plus an offset a test may change."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return beijing_now() + self.offset


def campaign_in(folder: Path, customers: int = 6, **api: Any) -> Path:
    write_audience(folder / "aud.csv", registry().slice(0, customers))
    return write_campaign(
        folder / "campaign.yaml",
        audiences={"shops": audience(folder / "aud.csv")},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        **api,
    )


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], base_url: str, *args: str
) -> tuple[int, str]:
    monkeypatch.setenv("SANDBOX_URL", base_url)
    monkeypatch.setenv("WAIQIN_OPENID", OPENID)
    monkeypatch.setenv("WAIQIN_APPKEY", APPKEY)
    monkeypatch.delenv("WAIQIN_BASE_URL", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["--log-format", "console", *args])
    _, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, err


@pytest.mark.parametrize("skew", [timedelta(minutes=30), timedelta(hours=-9)])
def test_a_vendor_refusing_our_timestamps_names_the_clock(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    skew: timedelta,
) -> None:
    """Against a sandbox whose clock is *skew* away (window 5 minutes), ``runner run`` exits
    4 saying the clock may be off, with the local and the Beijing time sent; nothing was
    applied and the voucher stays planned; with the clocks agreeing the rerun completes."""
    campaign = campaign_in(tmp_path)
    state = tmp_path / "state"
    clock = SkewedClock(skew)
    with sandbox(clock=clock, timestamp_window=WINDOW_S) as server:
        args = ("run", str(campaign), "--yes", "--state-dir", str(state))
        code, err = cli(monkeypatch, capsys, server.base_url, *args)
        assert code == 4, err
        assert "the vendor refused the request's timestamp" in err
        assert "this machine's clock may be off (local time " in err
        assert "Beijing time sent " in err
        assert "fix the clock (NTP) and run again" in err
        assert "Traceback" not in err
        assert inspect(server.base_url)["vouchers"] == []
        with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
            assert [v.state for v in ledger.vouchers(active=None)] == ["planned"]

        clock.offset = timedelta(0)
        code, err = cli(monkeypatch, capsys, server.base_url, *args)
        assert code == 0, err
        assert_exactly_planned(server.base_url, plan_of(campaign, server.base_url), state)


def test_a_vendor_slower_than_the_timeout_gets_no_duplicate_after_a_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every grant applied but answered 1.5 s late (the client gives up at 1 s) and every
    listing slower than the timeout: the run stops (exit 4) with the grants unknown. Once the
    vendor is quick again, the rerun finds them granted and sends none a second time."""
    campaign = campaign_in(tmp_path, customers=8, settle_s=2.0, max_attempts=2)
    state = tmp_path / "state"
    slow = (
        "lost_response@receiveVoucherInfo=1.0,lost_response_delay=1500ms,"
        "latency@queryVoucherUsedInfo=1500ms"
    )
    with sandbox(faults=slow, seed=5) as server:
        args = ("run", str(campaign), "--yes", "--state-dir", str(state))
        code, err = cli(monkeypatch, capsys, server.base_url, *args)
        assert code == 4, err
        with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
            assert {j.state for j in ledger.jobs(active=None)} == {"unknown"}
        plan = plan_of(campaign, server.base_url)
        applied = inspect(server.base_url)["counters"]["receiveVoucherInfo"]["applied"]
        assert applied == plan.jobs.height

        set_faults(server.base_url, "")
        code, err = cli(monkeypatch, capsys, server.base_url, *args)
        assert code == 0, err
        assert_exactly_planned(server.base_url, plan, state)
        grants = inspect(server.base_url)["counters"]["receiveVoucherInfo"]
    assert grants["received"] == grants["applied"] == plan.jobs.height
