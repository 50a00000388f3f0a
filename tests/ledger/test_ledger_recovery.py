"""Crash recovery on open, and the append-only event log."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from runner.ledger import Ledger

from .helpers import CAMPAIGN, VOUCHER, raw, seed


def test_rows_left_sending_become_unknown_on_reopen(state_dir: Path) -> None:
    """A job and a voucher left in sending when the ledger closed are unknown after reopening."""
    with Ledger.open(state_dir, CAMPAIGN) as first:
        seed(first, "j1", "j2")
        run_id = first.start_run("run", "hash-1")
        first.mark_voucher_sending(VOUCHER, "m-v")
        first.mark_sending("j1", "m-1")
        # closed without an outcome: the process "crashed" here
    with Ledger.open(state_dir, CAMPAIGN) as second:
        assert second.recovered.jobs == ("j1",)
        assert second.recovered.vouchers == (VOUCHER,)
        job = second.job("j1")
        assert (job.state, job.attempts, job.msg_id) == ("unknown", 1, "m-1")
        assert job.last_error is not None
        assert "in flight" in job.last_error
        assert second.voucher(VOUCHER).state == "unknown"
        assert second.job("j2").state == "planned"
        event = second.events("j1")[-1]
        assert (event.from_state, event.to_state) == ("sending", "unknown")
        assert event.detail["stopped_run"] == run_id
        assert event.detail["msg_id"] == "m-1"


def test_recovery_appends_one_event_per_row_and_only_once(state_dir: Path) -> None:
    """Each recovered row gets exactly one event; a later clean reopen recovers nothing."""
    with Ledger.open(state_dir, CAMPAIGN) as first:
        seed(first, "j1", "j2")
        first.mark_sending_many([("j1", "m-1"), ("j2", "m-2")])
    with Ledger.open(state_dir, CAMPAIGN) as second:
        recovered = [e for e in second.events() if e.detail.get("action") == "recover_after_crash"]
        assert sorted(e.entity_id for e in recovered) == ["j1", "j2"]
    with Ledger.open(state_dir, CAMPAIGN) as third:
        assert not third.recovered
        assert [j.state for j in third.jobs()] == ["unknown", "unknown"]


def test_read_only_open_does_not_recover(state_dir: Path) -> None:
    """Opening read-only (e.g. for status while a run is going) leaves sending rows alone."""
    with Ledger.open(state_dir, CAMPAIGN) as writer:
        seed(writer, "j1")
        writer.mark_sending("j1", "m-1")
        with Ledger.open(state_dir, CAMPAIGN, read_only=True) as reader:
            assert reader.job("j1").state == "sending"
            assert not reader.recovered
        assert writer.job("j1").state == "sending"


def test_events_cannot_be_updated_or_deleted(ledger: Ledger) -> None:
    """The events table refuses UPDATE and DELETE: the log is append-only."""
    seed(ledger, "j1")
    ledger.mark_sending("j1", "m-1")
    with raw(ledger.path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET to_state = 'done'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events")
    assert [e.to_state for e in ledger.events("j1")] == ["planned", "sending"]


def test_earlier_events_stay_unchanged_as_the_log_grows(ledger: Ledger) -> None:
    """Every transition appends; the log before it is an unchanged prefix of the log after."""
    seed(ledger, "j1")
    snapshots = [ledger.events()]
    ledger.mark_sending("j1", "m-1")
    snapshots.append(ledger.events())
    ledger.mark_unknown("j1", error="reset")
    snapshots.append(ledger.events())
    ledger.adopt("j1", remote_ref="4748332116608163964")
    snapshots.append(ledger.events())
    for shorter, longer in itertools.pairwise(snapshots):
        assert longer[: len(shorter)] == shorter
        assert len(longer) == len(shorter) + 1
    states = [(e.from_state, e.to_state) for e in ledger.events("j1")]
    assert states == [
        (None, "planned"),
        ("planned", "sending"),
        ("sending", "unknown"),
        ("unknown", "done"),
    ]


def test_events_carry_the_current_run_id(ledger: Ledger) -> None:
    """Transitions made during a run are tagged with its id; those after it are not."""
    seed(ledger, "j1")
    run_id = ledger.start_run("run", "hash-1")
    ledger.mark_sending("j1", "m-1")
    ledger.finish_run(run_id, 0, {"done": 0})
    ledger.mark_unknown("j1", error="late")
    events = ledger.events("j1")
    assert [e.run_id for e in events] == [None, run_id, None]
