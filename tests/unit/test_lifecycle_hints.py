"""The lines people read about end dates, finishes and drift, with commands to type."""

from __future__ import annotations

from pathlib import Path

from runner.outputs.hints import change_line, closed_line, drift_line, lifecycle_lines
from runner.summaries import (
    BehindView,
    ChangeOutcomeView,
    ClosedView,
    LifecycleStepView,
    LifecycleView,
    VoucherDrift,
)


def test_a_drift_hint_names_the_campaign_file_and_state_dir_the_user_gave() -> None:
    """CAMPAIGN.yaml in a drift's hint becomes the user's file, with their --state-dir."""
    drift = VoucherDrift(
        voucher_key="ten-off",
        voucher_id="68",
        setting="finished",
        ledger="live",
        remote="finished",
        hint="record it with `runner finish CAMPAIGN.yaml --voucher ten-off`",
    )
    line = drift_line(drift, Path("spring.yaml"), Path("/srv/state"))
    assert "`runner finish spring.yaml --state-dir /srv/state --voucher ten-off`" in line
    assert "the vendor has finished, the ledger live" in line


def test_an_expired_voucher_says_how_to_send_its_grants() -> None:
    """An expired voucher's line counts the grants not sent and says to extend, then retry;
    a finished one only counts them."""
    expired = ClosedView(
        voucher_key="ten-off", why="expired", since="2027-03-31", grants_not_sent=3
    )
    assert closed_line(expired) == (
        "voucher ten-off expired on 2027-03-31: 3 grant(s) not sent (move its end_date to "
        "today or later, then `runner retry-failed`)"
    )
    finished = expired.model_copy(update={"why": "finished", "since": "x"})
    assert closed_line(finished) == "voucher ten-off is finished: 3 grant(s) not sent"


def test_a_change_line_shows_both_dates_and_how_it_ended() -> None:
    """An end-date change reads `end date of KEY: FROM → TO: OUTCOME (message)`."""
    change = ChangeOutcomeView(
        voucher_key="ten-off",
        change_id="ten-off:1",
        action="end_date",
        from_end_date="2027-03-31",
        to_end_date="2027-06-30",
        outcome="done",
        message="sent and confirmed",
    )
    assert change_line(change) == (
        "end date of ten-off: 2027-03-31 → 2027-06-30: done (sent and confirmed)"
    )


def test_status_lines_list_changes_then_behind_then_closed() -> None:
    """What a rerun would change comes first, then what the file is behind on, then the
    vouchers closed to grants."""
    view = LifecycleView(
        changes=[
            LifecycleStepView(
                voucher_key="a",
                action="finish",
                from_end_date=None,
                to_end_date=None,
                text="finish a",
            )
        ],
        behind=[
            BehindView(voucher_key="b", setting="finished", ledger_value="true", message="add it")
        ],
        closed=[ClosedView(voucher_key="c", why="finished", since="x", grants_not_sent=0)],
    )
    assert lifecycle_lines(view) == [
        "`runner run` would finish a",
        "the campaign file is behind: add it",
        "voucher c is finished: 0 grant(s) not sent",
    ]
