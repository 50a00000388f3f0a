"""jobs.refused: set by the refusal moves, cleared by every other one, never read from text."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import get_args

import pytest

from runner.ledger import JobState, Ledger
from runner.ledger._states import CHANGE_MOVES, JOB_MOVES, VOUCHER_MOVES, MoveName

from .helpers import LIMIT_MSG, raw, reach_job, reach_refused_unknown, seed


def test_a_limit_refusal_leaves_the_job_unknown_refused_with_code_and_message(
    ledger: Ledger,
) -> None:
    """mark_unknown_refused keeps the server's code and message and sets the flag."""
    seed(ledger, "j1")
    reach_refused_unknown(ledger, "j1")
    job = ledger.job("j1")
    assert (job.return_code, job.return_msg) == ("1", LIMIT_MSG)
    assert job.last_error is not None
    assert LIMIT_MSG in job.last_error


def test_a_lost_answer_is_unknown_but_not_refused(ledger: Ledger) -> None:
    """mark_unknown (timeout, reset) leaves the flag clear."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "unknown")
    assert ledger.job("j1").refused is False


def test_a_refusal_that_fails_the_job_is_refused(ledger: Ledger) -> None:
    """mark_failed records a refusal: the flag is set on the failed job."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "failed")
    assert ledger.job("j1").refused is True


def test_mark_refused_fails_the_job_keeping_what_the_server_said(ledger: Ledger) -> None:
    """unknown (refused) → failed keeps code, message, error text and the flag, and logs why."""
    seed(ledger, "j1")
    reach_refused_unknown(ledger, "j1")
    before = ledger.job("j1")
    ledger.mark_refused("j1", detail={"reason": "remote holds 0"})
    after = ledger.job("j1")
    assert (after.state, after.refused) == ("failed", True)
    assert (after.return_code, after.return_msg, after.last_error) == (
        before.return_code,
        before.return_msg,
        before.last_error,
    )
    assert ledger.events("j1")[-1].detail["reason"] == "remote holds 0"


def test_mark_refused_on_a_job_a_lost_answer_left_unknown_is_a_programming_error(
    ledger: Ledger,
) -> None:
    """Failing a job as refused when no refusal left it unknown raises and changes nothing."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "unknown")
    before, events = ledger.job("j1"), ledger.events()
    with pytest.raises(ValueError, match="not left unknown by a refusal"):
        ledger.mark_refused("j1")
    assert ledger.job("j1") == before
    assert ledger.events() == events


_LEAVING_REFUSED: dict[str, Callable[[Ledger, str], None]] = {
    "adopt": lambda lg, j: lg.adopt(j),
    "mark_review": lambda lg, j: lg.mark_review(j, reason="two grants"),
    "mark_absent": lambda lg, j: lg.mark_absent(j),
}


@pytest.mark.parametrize("name", list(_LEAVING_REFUSED))
def test_moving_a_refused_job_on_clears_the_flag(ledger: Ledger, name: str) -> None:
    """Adopting, reviewing or re-planning a job a refusal left unknown clears refused."""
    seed(ledger, "j1")
    reach_refused_unknown(ledger, "j1")
    _LEAVING_REFUSED[name](ledger, "j1")
    assert ledger.job("j1").refused is False


def test_retrying_a_refused_failed_job_clears_the_flag(ledger: Ledger) -> None:
    """failed (refused) → planned by retry_failed: the flag no longer applies."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "failed")
    ledger.retry_failed("j1")
    assert ledger.job("j1").refused is False


def test_failing_a_job_in_review_is_not_a_refusal(ledger: Ledger) -> None:
    """A person's decision to fail a job in review leaves refused clear."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    ledger.resolve_review("j1", "failed", note="the shop closed")
    assert (ledger.job("j1").state, ledger.job("j1").refused) == ("failed", False)


def test_the_flag_is_never_read_from_last_error(ledger: Ledger) -> None:
    """A lost answer whose text starts like a refusal is still not refused."""
    seed(ledger, "j1")
    ledger.mark_sending("j1", "m-1")
    ledger.mark_unknown("j1", error="refused: return_code=1 return_msg=looks like one")
    assert ledger.job("j1").refused is False


@pytest.mark.parametrize("state", ["planned", "sending", "done", "review"])
def test_the_file_refuses_refused_outside_unknown_and_failed(
    ledger: Ledger, state: JobState
) -> None:
    """The CHECK constraint keeps refused to jobs in unknown or failed, whatever writes it."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", state)
    with raw(ledger.path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE jobs SET refused = 1 WHERE job_id = 'j1'")


def test_the_move_tables_hold_each_typed_name_once() -> None:
    """The move tables together use every name of the MoveName literal and nothing else,
    each move under its own name; jobs and changes have the shared moves vouchers have."""
    names = set(get_args(MoveName))
    tables = (JOB_MOVES, VOUCHER_MOVES, CHANGE_MOVES)
    assert set().union(*tables) == names
    for table in tables:
        assert set(table) <= names
        assert set(VOUCHER_MOVES) <= set(table)
        assert all(move.name == name for name, move in table.items())
