"""A person's way out of review: done, resend or failed, each with a note, and every refusal."""

from __future__ import annotations

from typing import Literal

import pytest

from runner.errors import LedgerError
from runner.ledger import JobState, Ledger, VoucherState
from runner.ledger._states import JOB_MOVES, VOUCHER_MOVES

from .helpers import BIG_ID, VOUCHER, reach_job, reach_voucher, seed, table_dump

JobTo = Literal["planned", "done", "failed"]
VoucherTo = Literal["planned", "created", "failed"]
OTHER_JOB_STATES: tuple[JobState, ...] = ("planned", "sending", "unknown", "done", "failed")
OTHER_VOUCHER_STATES: tuple[VoucherState, ...] = (
    "planned",
    "sending",
    "unknown",
    "created",
    "failed",
)


def test_move_table_has_review_to_failed_for_both_kinds() -> None:
    """The move resolve_review_failed goes from review to failed for jobs and vouchers."""
    for table in (JOB_MOVES, VOUCHER_MOVES):
        move = table["resolve_review_failed"]
        assert (move.source, move.target) == ("review", "failed")


@pytest.mark.parametrize("to", ["planned", "done", "failed"])
def test_job_resolution_moves_it_and_records_note_and_person(ledger: Ledger, to: JobTo) -> None:
    """Resolving a job in review moves it there with one event carrying the note and the person."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    before = ledger.events("j1")
    ledger.resolve_review("j1", to, note="  checked the console  ", by="alice")
    after = ledger.events("j1")
    assert ledger.job("j1").state == to
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    event = after[-1]
    assert (event.from_state, event.to_state) == ("review", to)
    assert event.detail["note"] == "checked the console"
    assert event.detail["by"] == "alice"
    assert event.detail["action"] == "resolve_review"


def test_job_resolved_failed_keeps_the_note_as_last_error(ledger: Ledger) -> None:
    """A job a person marks failed shows the note as its last error, for failures.csv."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    ledger.resolve_review("j1", "failed", note="customer closed the shop")
    job = ledger.job("j1")
    assert job.last_error == "marked failed in review: customer closed the shop"
    assert (job.return_code, job.return_msg) == (None, None)


def test_job_resolved_failed_can_be_retried(ledger: Ledger) -> None:
    """A job marked failed in review goes back to planned through retry_failed."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    ledger.resolve_review("j1", "failed", note="later")
    ledger.retry_failed("j1")
    assert ledger.job("j1").state == "planned"


def test_job_resolved_done_stores_the_instance_id(ledger: Ledger) -> None:
    """A job resolved done with an instance id keeps it as its remote reference."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    ledger.resolve_review("j1", "done", note="seen once", remote_ref=BIG_ID)
    assert ledger.job("j1").remote_ref == BIG_ID


def test_resolution_without_by_records_the_os_user(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an explicit by, the event records the OS user name."""
    monkeypatch.setenv("LOGNAME", "bob-the-reviewer")
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    ledger.resolve_review("j1", "planned", note="absent remotely")
    assert ledger.events("j1")[-1].detail["by"] == "bob-the-reviewer"


@pytest.mark.parametrize("to", ["planned", "done", "failed"])
@pytest.mark.parametrize("state", OTHER_JOB_STATES)
def test_job_not_in_review_is_refused_and_nothing_changes(
    ledger: Ledger, to: JobTo, state: JobState
) -> None:
    """Resolving a job that is not in review raises LedgerError naming it and writes nothing."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", state)
    before = table_dump(ledger.path)
    with pytest.raises(LedgerError) as caught:
        ledger.resolve_review("j1", to, note="why not")
    assert "j1" in str(caught.value)
    assert repr(state) in str(caught.value)
    assert table_dump(ledger.path) == before


@pytest.mark.parametrize("note", ["", "   "])
def test_job_resolution_without_note_is_refused(ledger: Ledger, note: str) -> None:
    """A blank note is a programming error naming the job, and the job stays in review."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    before = table_dump(ledger.path)
    with pytest.raises(ValueError, match="job j1 needs a note"):
        ledger.resolve_review("j1", "planned", note=note)
    assert table_dump(ledger.path) == before


def test_unknown_job_is_refused(ledger: Ledger) -> None:
    """Resolving a job the ledger does not hold says it is not in the ledger."""
    seed(ledger, "j1")
    with pytest.raises(LedgerError, match="job nope is not in the ledger"):
        ledger.resolve_review("nope", "done", note="?")


@pytest.mark.parametrize("to", ["planned", "failed"])
def test_job_remote_ref_only_with_done(ledger: Ledger, to: JobTo) -> None:
    """An instance id given with resend or failed is a programming error; nothing is written."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    with pytest.raises(ValueError, match="remote_ref"):
        ledger.resolve_review("j1", to, note="x", remote_ref=BIG_ID)
    assert ledger.job("j1").state == "review"


def test_job_resolution_to_an_unknown_state_is_refused(ledger: Ledger) -> None:
    """A target state outside planned/done/failed is refused before anything is written."""
    seed(ledger, "j1")
    reach_job(ledger, "j1", "review")
    with pytest.raises(ValueError, match="created"):
        ledger.resolve_review("j1", "created", note="x")  # type: ignore[arg-type]
    assert ledger.job("j1").state == "review"


# --- vouchers --------------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["planned", "created", "failed"])
def test_voucher_resolution_moves_it_and_records_the_note(ledger: Ledger, to: VoucherTo) -> None:
    """Resolving a voucher in review moves it to the chosen state with one event and the note."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, "review")
    count = len(ledger.events(VOUCHER))
    remote_id = BIG_ID if to == "created" else None
    ledger.resolve_voucher_review(VOUCHER, to, note="looked it up", remote_id=remote_id, by="a")
    events = ledger.events(VOUCHER)
    assert ledger.voucher(VOUCHER).state == to
    assert len(events) == count + 1
    assert (events[-1].from_state, events[-1].to_state) == ("review", to)
    assert (events[-1].detail["note"], events[-1].detail["by"]) == ("looked it up", "a")


def test_voucher_resolved_created_stores_its_remote_id(ledger: Ledger) -> None:
    """A voucher resolved as created keeps the remote id the person gave."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, "review")
    ledger.resolve_voucher_review(VOUCHER, "created", note="the older one", remote_id=BIG_ID)
    assert ledger.voucher(VOUCHER).remote_id == BIG_ID


def test_voucher_resolved_failed_keeps_the_note_as_last_error(ledger: Ledger) -> None:
    """A voucher a person marks failed shows the note as its last error."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, "review")
    ledger.resolve_voucher_review(VOUCHER, "failed", note="both candidates are wrong")
    voucher = ledger.voucher(VOUCHER)
    assert voucher.last_error == "marked failed in review: both candidates are wrong"


def test_voucher_created_without_remote_id_is_refused(ledger: Ledger) -> None:
    """A voucher cannot become created without its remote id: a programming error."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, "review")
    before = table_dump(ledger.path)
    with pytest.raises(ValueError, match=f"'{VOUCHER}' cannot be marked created"):
        ledger.resolve_voucher_review(VOUCHER, "created", note="found it")
    assert table_dump(ledger.path) == before


def test_voucher_resolution_without_note_is_refused(ledger: Ledger) -> None:
    """A blank note on a voucher decision is a programming error naming the voucher."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, "review")
    with pytest.raises(ValueError, match=f"voucher '{VOUCHER}' needs a note"):
        ledger.resolve_voucher_review(VOUCHER, "planned", note=" ")
    assert ledger.voucher(VOUCHER).state == "review"


@pytest.mark.parametrize("to", ["planned", "failed"])
def test_voucher_remote_id_only_with_created(ledger: Ledger, to: VoucherTo) -> None:
    """A remote id given with resend or failed is a programming error; nothing is written."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, "review")
    with pytest.raises(ValueError, match="remote_id"):
        ledger.resolve_voucher_review(VOUCHER, to, note="x", remote_id=BIG_ID)
    assert ledger.voucher(VOUCHER).state == "review"


@pytest.mark.parametrize("to", ["planned", "created", "failed"])
@pytest.mark.parametrize("state", OTHER_VOUCHER_STATES)
def test_voucher_not_in_review_is_refused_and_nothing_changes(
    ledger: Ledger, to: VoucherTo, state: VoucherState
) -> None:
    """Resolving a voucher that is not in review raises LedgerError and writes nothing."""
    seed(ledger)
    reach_voucher(ledger, VOUCHER, state)
    before = table_dump(ledger.path)
    remote_id = BIG_ID if to == "created" else None
    with pytest.raises(LedgerError) as caught:
        ledger.resolve_voucher_review(VOUCHER, to, note="x", remote_id=remote_id)
    assert repr(VOUCHER) in str(caught.value)
    assert repr(state) in str(caught.value)
    assert table_dump(ledger.path) == before
