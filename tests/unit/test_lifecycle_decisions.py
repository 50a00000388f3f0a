"""The pure lifecycle decisions: settling a lost change, closing to grants, drift."""

from __future__ import annotations

from datetime import date

import pytest

from runner.execute import (
    RemoteVoucherState,
    already_applied,
    closed_reason,
    settle_change,
    voucher_drift,
)
from runner.ledger import VoucherLifecycle

BEFORE, AFTER = "2027-03-31", "2027-06-30"
TODAY = date(2027, 3, 10)


def _remote(
    end: str = BEFORE, finished: bool = False, num: int = 5, each: int = 1
) -> RemoteVoucherState:
    return RemoteVoucherState(end_date=end, finished=finished, num=num, each_cm_num=each)


def _life(end: str = BEFORE, finished: bool = False) -> VoucherLifecycle:
    return VoucherLifecycle(
        voucher_key="ten-off",
        created_end_date=BEFORE,
        end_date=end,
        finished=finished,
        finished_at="2027-03-05T10:00:00.000+08:00" if finished else None,
        latest=None,
        last_end_change=None,
    )


@pytest.mark.parametrize(
    ("remote", "outcome"),
    [
        (_remote(AFTER), "adopt"),
        (_remote(BEFORE), "resend"),
        (_remote("2027-05-01"), "review"),
        (None, "review"),
    ],
    ids=["shows-it", "never-arrived", "changed-elsewhere", "not-listed"],
)
def test_a_lost_end_date_change_is_settled_by_the_end_date_read_back(
    remote: RemoteVoucherState | None, outcome: str
) -> None:
    """The asked end date adopts, the previous one resends, any other (or none) reviews."""
    assert settle_change("end_date", AFTER, BEFORE, remote).outcome == outcome


@pytest.mark.parametrize(("finished", "outcome"), [(True, "adopt"), (False, "resend")])
def test_a_lost_finish_is_settled_by_is_finish(finished: bool, outcome: str) -> None:
    """A voucher read back finished adopts the finish; a live one resends it."""
    assert settle_change("finish", None, BEFORE, _remote(finished=finished)).outcome == outcome


def test_already_applied_compares_the_asked_state() -> None:
    """A finish is there when finished; an end-date move when the end date is the asked one."""
    assert already_applied("finish", None, _remote(finished=True))
    assert not already_applied("finish", None, _remote())
    assert already_applied("end_date", AFTER, _remote(AFTER))
    assert not already_applied("end_date", AFTER, _remote(BEFORE))


def test_closed_by_the_ledger_before_any_remote_read() -> None:
    """Finished or past its end date in the ledger: closed, whatever the remote says."""
    finished = closed_reason(_life(finished=True), _remote(), TODAY)
    assert finished is not None
    assert (finished.why, finished.remote) == ("finished", False)
    expired = closed_reason(_life(end="2027-03-09"), None, TODAY)
    assert expired is not None
    assert (expired.why, expired.since) == ("expired", "2027-03-09")


def test_closed_by_the_voucher_read_back() -> None:
    """Live in the ledger, but finished or expired remotely: closed, said to come from the
    vendor; open when both agree it takes grants."""
    finished = closed_reason(_life(), _remote(finished=True), TODAY)
    assert finished is not None
    assert finished.remote
    assert "read back" in finished.reason()
    expired = closed_reason(_life(), _remote("2027-03-01"), TODAY)
    assert expired is not None
    assert expired.why == "expired"
    assert closed_reason(_life(), _remote(), TODAY) is None


def test_drift_names_each_setting_that_differs() -> None:
    """End date, finish, num and eachCmNum read back differently are each one drift."""
    fields = {"num": 5, "eachCmNum": 1}
    found = voucher_drift("68", _life(), fields, _remote(AFTER, True, num=3, each=2))
    assert [(d.setting, d.ledger, d.remote) for d in found] == [
        ("end_date", BEFORE, AFTER),
        ("finished", "live", "finished"),
        ("num", "5", "3"),
        ("eachCmNum", "1", "2"),
    ]
    assert voucher_drift("68", _life(), fields, _remote()) == []


def test_a_voucher_the_tenant_no_longer_lists_is_drift() -> None:
    """Not in the listing at all: one `missing` drift."""
    (missing,) = voucher_drift("68", _life(), {}, None)
    assert missing.setting == "missing"
