"""Changes (end-date moves, finishes): write-ahead, one open at a time, history, recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import LedgerError
from runner.ledger import ChangeRow, Ledger

from .helpers import BIG_ID, CAMPAIGN, VOUCHER, raw, reach_voucher, seed

LATER, LATEST = "2025-06-30", "2025-09-30"


def _extend(end: str = LATER, previous: str = "2025-03-31") -> ChangeRow:
    return ChangeRow(VOUCHER, "end_date", end, previous, "campaign")


@pytest.fixture
def created(ledger: Ledger) -> Ledger:
    """The ledger with voucher ten-off created and one job planned."""
    seed(ledger, "j1")
    reach_voucher(ledger, VOUCHER, "created")
    return ledger


def _send(ledger: Ledger, change_id: str) -> None:
    ledger.mark_change_sending(change_id, f"msg-{change_id.replace(':', '-')}")


def test_a_change_needs_a_created_voucher(ledger: Ledger) -> None:
    """A voucher that is only planned has no remote id: no change can be planned for it."""
    seed(ledger, "j1")
    with pytest.raises(LedgerError, match="is not created"):
        ledger.plan_change(_extend())


def test_one_open_change_per_voucher_and_ids_count_up(created: Ledger) -> None:
    """A second change waits until the first is settled; ids are <voucher>:1, :2, …"""
    first = created.plan_change(_extend())
    assert first == f"{VOUCHER}:1"
    with pytest.raises(LedgerError, match="still 'planned'"):
        created.plan_change(_extend(LATEST))
    _send(created, first)
    created.mark_change_done(first)
    assert created.plan_change(_extend(LATEST, LATER)) == f"{VOUCHER}:2"


def test_sending_is_committed_before_the_request_leaves(created: Ledger) -> None:
    """mark_change_sending is visible to another connection at once, with its msg_id."""
    change_id = created.plan_change(_extend())
    _send(created, change_id)
    with raw(created.path) as conn:
        row = conn.execute("SELECT state, attempts, msg_id FROM changes").fetchone()
    assert row == ("sending", 1, "msg-ten-off-1")


def test_a_crash_leaves_the_change_unknown(state_dir: Path) -> None:
    """A change left sending by a stopped process is unknown on the next writable open."""
    with Ledger.open(state_dir, CAMPAIGN) as first:
        seed(first, "j1")
        reach_voucher(first, VOUCHER, "created")
        change_id = first.plan_change(ChangeRow(VOUCHER, "finish", None, "2025-03-31", "command"))
        _send(first, change_id)
    with Ledger.open(state_dir, CAMPAIGN) as again:
        assert again.recovered.changes == (change_id,)
        assert again.change(change_id).state == "unknown"


def test_the_lifecycle_counts_done_changes_only(created: Ledger) -> None:
    """The end date is the last done move's; a refused one leaves it; a done finish
    finishes; the history lists creation and each done move."""
    moved = created.plan_change(_extend())
    _send(created, moved)
    created.mark_change_done(moved)
    refused = created.plan_change(_extend(LATEST, LATER))
    _send(created, refused)
    created.mark_change_failed(refused, return_code="1", return_msg="不允许")
    life = created.lifecycle(VOUCHER)
    assert (life.end_date, life.finished) == (LATER, False)
    assert [end for _, end, _ in life.end_dates()] == ["2025-03-31", LATER]
    assert life.latest is not None
    assert life.latest.state == "failed"

    finish = created.plan_change(ChangeRow(VOUCHER, "finish", None, LATER, "command"))
    _send(created, finish)
    created.mark_change_done(finish)
    assert created.lifecycle(VOUCHER).finished


def test_drop_takes_planned_and_review_but_never_unknown(created: Ledger) -> None:
    """A planned change can be dropped, one in review too; an unknown one refuses: it may
    have reached the server."""
    planned = created.plan_change(_extend())
    created.drop_change(planned, reason="no longer wanted")
    lost = created.plan_change(_extend(LATEST))
    _send(created, lost)
    created.mark_change_unknown(lost, error="read timeout")
    with pytest.raises(LedgerError, match="'unknown'"):
        created.drop_change(lost, reason="no")
    created.mark_change_review(lost, reason="neither date")
    created.drop_change(lost, reason="replaced")
    assert [c.state for c in created.changes()] == ["dropped", "dropped"]


def test_a_recorded_change_is_done_without_an_attempt(created: Ledger) -> None:
    """record_change writes a change the remote already shows: done, no attempt, two events."""
    change_id = created.record_change(_extend(), reason="the file caught up")
    change = created.change(change_id)
    assert (change.state, change.attempts) == ("done", 0)
    moves = [(e.from_state, e.to_state) for e in created.events(change_id)]
    assert moves == [(None, "planned"), ("planned", "done")]


def test_blocked_jobs_fail_with_the_reason_and_no_attempt(created: Ledger) -> None:
    """mark_blocked_many fails planned jobs unsent, the reason in last_error, not refused."""
    created.mark_blocked_many(["j1"], reason="not sent: voucher 'ten-off' is finished")
    job = created.job("j1")
    assert (job.state, job.attempts, job.refused) == ("failed", 0, False)
    assert job.last_error == "not sent: voucher 'ten-off' is finished"
    assert created.voucher(VOUCHER).remote_id == BIG_ID
