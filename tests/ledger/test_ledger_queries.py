"""Queries for the executor and reports: counts, confirmed grants, jobs, runs."""

from __future__ import annotations

import pytest

from runner.errors import LedgerError
from runner.ledger import Ledger

from .helpers import VOUCHER, job_row, reach_job, voucher_row


def seed_two_vouchers(ledger: Ledger) -> None:
    """ten-off: c1 twice (seq 1, 2), c2 once; five-off: c1 once."""
    jobs = [
        job_row("a1", VOUCHER, "c1", 1),
        job_row("a2", VOUCHER, "c1", 2),
        job_row("a3", VOUCHER, "c2", 1),
        job_row("b1", "five-off", "c1", 1),
    ]
    ledger.sync_plan("hash-1", [voucher_row(), voucher_row("five-off")], jobs)


def test_counts_per_voucher_per_state(ledger: Ledger) -> None:
    """counts() gives, per voucher, how many jobs are in each state."""
    seed_two_vouchers(ledger)
    reach_job(ledger, "a1", "done")
    reach_job(ledger, "a2", "failed")
    reach_job(ledger, "b1", "unknown")
    assert ledger.counts() == {
        VOUCHER: {"done": 1, "failed": 1, "planned": 1},
        "five-off": {"unknown": 1},
    }


def test_counts_can_include_jobs_no_longer_planned(ledger: Ledger) -> None:
    """By default counts() skips inactive jobs; active=None counts them too."""
    seed_two_vouchers(ledger)
    ledger.sync_plan(
        "hash-2", [voucher_row(), voucher_row("five-off")], [job_row("a1", VOUCHER, "c1", 1)]
    )
    assert ledger.counts() == {VOUCHER: {"planned": 1}}
    assert ledger.counts(active=None) == {VOUCHER: {"planned": 3}, "five-off": {"planned": 1}}


def test_confirmed_grants_counts_done_jobs_per_customer(ledger: Ledger) -> None:
    """confirmed_grants counts only done jobs, per customer, for one voucher."""
    seed_two_vouchers(ledger)
    reach_job(ledger, "a1", "done")
    reach_job(ledger, "a2", "done")
    reach_job(ledger, "a3", "unknown")
    reach_job(ledger, "b1", "done")
    assert ledger.confirmed_grants(VOUCHER) == {"c1": 2}
    assert ledger.confirmed_grants("five-off") == {"c1": 1}
    assert ledger.confirmed_grants("nothing") == {}


def test_jobs_filters_by_states_and_voucher(ledger: Ledger) -> None:
    """jobs() filters by one state, several states and a voucher, in plan order."""
    seed_two_vouchers(ledger)
    reach_job(ledger, "a2", "unknown")
    reach_job(ledger, "b1", "review")
    assert [j.job_id for j in ledger.jobs(state="planned")] == ["a1", "a3"]
    assert [j.job_id for j in ledger.jobs(state=["unknown", "review"])] == ["a2", "b1"]
    assert [j.job_id for j in ledger.jobs(voucher_key="five-off")] == ["b1"]
    assert [j.job_id for j in ledger.jobs("planned", VOUCHER)] == ["a1", "a3"]


def test_missing_job_and_voucher_raise(ledger: Ledger) -> None:
    """Looking up what the ledger lacks raises LedgerError naming it."""
    seed_two_vouchers(ledger)
    with pytest.raises(LedgerError, match="job zz is not in the ledger") as caught:
        ledger.job("zz")
    assert caught.value.where.job_id == "zz"
    with pytest.raises(LedgerError, match="voucher 'zz' is not in the ledger"):
        ledger.voucher("zz")


def test_runs_are_recorded_start_to_finish(ledger: Ledger) -> None:
    """start_run and finish_run record command, plan hash, exit code and summary."""
    assert ledger.last_run() is None
    run_id = ledger.start_run("run", "hash-1")
    started = ledger.last_run()
    assert started is not None
    assert (started.run_id, started.command, started.plan_hash) == (run_id, "run", "hash-1")
    assert not started.finished
    ledger.finish_run(run_id, 1, {"done": 3, "failed": 1})
    finished = ledger.last_run()
    assert finished is not None
    assert finished.finished
    assert (finished.exit_code, finished.summary) == (1, {"done": 3, "failed": 1})
    assert [e.to_state for e in ledger.events(run_id)] == ["running", "finished"]


def test_finishing_a_run_twice_is_refused(ledger: Ledger) -> None:
    """A run can be finished once; a second finish raises LedgerError naming the run."""
    run_id = ledger.start_run("run", "hash-1")
    ledger.finish_run(run_id, 0)
    with pytest.raises(LedgerError, match=run_id):
        ledger.finish_run(run_id, 0)
