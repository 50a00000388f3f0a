"""Syncing the ledger with a plan, and diffing without writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import LedgerError
from runner.ledger import JobRow, Ledger, VoucherRow, VoucherState

from .helpers import CAMPAIGN, VOUCHER, job_row, reach_job, reach_voucher, table_dump, voucher_row


def plan(*job_ids: str) -> list[JobRow]:
    return [job_row(job_id, customer_key=f"c-{job_id}") for job_id in job_ids]


def test_first_sync_inserts_everything_as_planned(ledger: Ledger) -> None:
    """A first sync inserts every voucher and job as planned and active, and says so."""
    report = ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    assert report.applied
    assert report.new == ("j1", "j2")
    assert report.new_vouchers == (VOUCHER,)
    assert (report.already_done, report.still_to_do) == (0, 2)
    assert [(j.job_id, j.state, j.active) for j in ledger.jobs()] == [
        ("j1", "planned", True),
        ("j2", "planned", True),
    ]
    assert ledger.plan_hash() == "hash-1"


def test_resync_of_the_same_plan_changes_nothing(ledger: Ledger) -> None:
    """Syncing the same plan again reports nothing new and writes no event."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    events = ledger.events()
    report = ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    assert (report.new, report.no_longer_planned, report.returning) == ((), (), ())
    assert ledger.events() == events


def test_job_missing_from_plan_becomes_inactive_not_deleted(ledger: Ledger) -> None:
    """A job the new plan lacks gets active=0 keeping its state, and is reported."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2", "j3"))
    reach_job(ledger, "j3", "failed")
    report = ledger.sync_plan("hash-2", [voucher_row()], plan("j1", "j2"))
    assert report.no_longer_planned == ("j3",)
    assert [j.job_id for j in ledger.jobs()] == ["j1", "j2"]
    gone = ledger.job("j3")
    assert (gone.state, gone.active) == ("failed", False)
    assert ledger.events("j3")[-1].detail["change"] == "no longer planned"


def test_done_job_missing_from_plan_stays_done(ledger: Ledger) -> None:
    """A done job that left the plan is never revoked: it stays done and still counts."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    reach_job(ledger, "j1", "done")
    report = ledger.sync_plan("hash-2", [voucher_row()], plan("j2"))
    assert report.done_not_in_plan == ("j1",)
    assert report.no_longer_planned == ()
    assert ledger.job("j1").state == "done"
    assert ledger.confirmed_grants(VOUCHER) == {"c-j1": 1}


def test_job_coming_back_is_active_again(ledger: Ledger) -> None:
    """A job that left the plan and comes back is active again, with its state kept."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    reach_job(ledger, "j2", "done")
    ledger.sync_plan("hash-2", [voucher_row()], plan("j1"))
    report = ledger.sync_plan("hash-3", [voucher_row()], plan("j1", "j2"))
    assert report.returning == ("j2",)
    assert report.new == ()
    assert (report.already_done, report.still_to_do) == (1, 1)
    job = ledger.job("j2")
    assert (job.state, job.active) == ("done", True)


def test_changed_voucher_already_created_is_a_conflict_and_nothing_is_written(
    ledger: Ledger,
) -> None:
    """A created voucher whose settings changed is reported, and the sync writes nothing."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1"))
    reach_voucher(ledger, VOUCHER, "created")
    before = table_dump(ledger.path)
    report = ledger.sync_plan("hash-2", [voucher_row(fingerprint="fp-2")], plan("j1", "j9"))
    assert not report.applied
    assert not report.ok
    [conflict] = report.voucher_conflicts
    assert (conflict.voucher_key, conflict.state) == (VOUCHER, "created")
    assert (conflict.old_fingerprint, conflict.new_fingerprint) == ("fp-1", "fp-2")
    problem = conflict.as_problem()
    assert problem.where.yaml_path == f"vouchers.{VOUCHER}"
    assert problem.hint is not None
    assert "new voucher key" in problem.hint
    assert table_dump(ledger.path) == before


@pytest.mark.parametrize("state", ["sending", "unknown", "review"])
def test_changed_voucher_that_may_exist_remotely_is_a_conflict(
    ledger: Ledger, state: VoucherState
) -> None:
    """A voucher in sending, unknown or review may exist remotely, so a change conflicts."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1"))
    reach_voucher(ledger, VOUCHER, state)
    report = ledger.sync_plan("hash-2", [voucher_row(fingerprint="fp-2")], plan("j1"))
    assert [c.state for c in report.voucher_conflicts] == [state]


@pytest.mark.parametrize("state", ["planned", "failed"])
def test_changed_voucher_not_sent_yet_takes_new_settings(
    ledger: Ledger, state: VoucherState
) -> None:
    """A planned or failed voucher with new settings is updated, not reported as conflict."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1"))
    reach_voucher(ledger, VOUCHER, state)
    changed = VoucherRow(VOUCHER, "fp-2", {**voucher_row().fields, "money": "20"})
    report = ledger.sync_plan("hash-2", [changed], plan("j1"))
    assert report.ok
    assert report.updated_vouchers == (VOUCHER,)
    voucher = ledger.voucher(VOUCHER)
    assert (voucher.fingerprint, voucher.fields["money"], voucher.state) == ("fp-2", "20", state)


def test_voucher_missing_from_plan_becomes_inactive(ledger: Ledger) -> None:
    """A voucher the plan no longer lists is kept but inactive; it comes back when listed."""
    ledger.sync_plan("hash-1", [voucher_row(), voucher_row("five-off")], plan("j1"))
    ledger.sync_plan("hash-2", [voucher_row()], plan("j1"))
    assert [v.voucher_key for v in ledger.vouchers()] == [VOUCHER]
    assert [v.voucher_key for v in ledger.vouchers(active=None)] == [VOUCHER, "five-off"]
    ledger.sync_plan("hash-3", [voucher_row(), voucher_row("five-off")], plan("j1"))
    assert ledger.voucher("five-off").active


def test_diff_plan_writes_nothing_and_matches_sync(ledger: Ledger) -> None:
    """diff_plan leaves every table untouched and predicts exactly what sync_plan reports."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    reach_job(ledger, "j1", "done")
    before = table_dump(ledger.path)
    diff = ledger.diff_plan("hash-2", [voucher_row()], plan("j2", "j3"))
    assert table_dump(ledger.path) == before
    assert not diff.applied
    synced = ledger.sync_plan("hash-2", [voucher_row()], plan("j2", "j3"))
    assert synced.applied
    assert (diff.new, diff.done_not_in_plan, diff.plan_states) == (
        synced.new,
        synced.done_not_in_plan,
        synced.plan_states,
    )
    assert diff.new == ("j3",)


def test_diff_plan_works_on_a_read_only_ledger(state_dir: Path) -> None:
    """A read-only ledger (no lock) can still diff a plan, e.g. for `runner plan`."""
    with Ledger.open(state_dir, CAMPAIGN) as writer:
        writer.sync_plan("hash-1", [voucher_row()], plan("j1"))
    with Ledger.open(state_dir, CAMPAIGN, read_only=True) as reader:
        report = reader.diff_plan("hash-2", [voucher_row()], plan("j1", "j2"))
        assert report.new == ("j2",)
        with pytest.raises(LedgerError, match="read-only"):
            reader.sync_plan("hash-2", [voucher_row()], plan("j1", "j2"))
        assert [j.job_id for j in reader.jobs()] == ["j1"]


def test_job_id_that_changed_meaning_is_refused(ledger: Ledger) -> None:
    """A plan reusing a job id for another customer raises LedgerError naming the job."""
    ledger.sync_plan("hash-1", [voucher_row()], [job_row("j1", customer_key="c1")])
    with pytest.raises(LedgerError) as caught:
        ledger.sync_plan("hash-2", [voucher_row()], [job_row("j1", customer_key="c2")])
    assert caught.value.where.job_id == "j1"
    assert ledger.job("j1").customer_key == "c1"


def test_duplicate_job_in_plan_is_refused(ledger: Ledger) -> None:
    """A plan listing one job id twice raises LedgerError naming it, writing nothing."""
    with pytest.raises(LedgerError, match="twice") as caught:
        ledger.sync_plan("hash-1", [voucher_row()], [job_row("j1"), job_row("j1")])
    assert caught.value.where.job_id == "j1"
    assert ledger.jobs(active=None) == []


def test_job_of_unlisted_voucher_is_refused(ledger: Ledger) -> None:
    """A job granting a voucher the plan does not list raises LedgerError."""
    with pytest.raises(LedgerError, match="does not list"):
        ledger.sync_plan("hash-1", [voucher_row()], [job_row("j1", voucher_key="ghost")])


def test_new_jobs_remember_the_run_that_planned_them(ledger: Ledger) -> None:
    """Jobs inserted during a run carry its id in planned_in_run."""
    run_id = ledger.start_run("run", "hash-1")
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1"))
    assert ledger.job("j1").planned_in_run == run_id
