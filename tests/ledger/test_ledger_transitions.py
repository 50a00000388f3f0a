"""Every legal transition of jobs and vouchers, and the refusal of every illegal one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runner.errors import LedgerError
from runner.ledger import JobState, Ledger, VoucherState

from .helpers import BIG_ID, VOUCHER, reach_job, reach_refused_unknown, reach_voucher, seed

JobAction = Callable[[Ledger, str], None]

JOB_MOVES: dict[str, tuple[JobState, JobState, JobAction]] = {
    "mark_sending": ("planned", "sending", lambda lg, j: lg.mark_sending(j, "m-1")),
    "mark_done": ("sending", "done", lambda lg, j: lg.mark_done(j, remote_ref=BIG_ID)),
    "mark_failed": (
        "sending",
        "failed",
        lambda lg, j: lg.mark_failed(j, return_code="40001", return_msg="超出限领数量"),
    ),
    "mark_unknown": ("sending", "unknown", lambda lg, j: lg.mark_unknown(j, error="timeout")),
    "mark_unknown_refused": (
        "sending",
        "unknown",
        lambda lg, j: lg.mark_unknown_refused(j, return_code="1", return_msg="超出限领数量"),
    ),
    "mark_not_sent": ("sending", "planned", lambda lg, j: lg.mark_not_sent(j, error="refused")),
    "adopt": ("unknown", "done", lambda lg, j: lg.adopt(j, remote_ref=BIG_ID)),
    "mark_absent": ("unknown", "planned", lambda lg, j: lg.mark_absent(j)),
    "mark_review": ("unknown", "review", lambda lg, j: lg.mark_review(j, reason="ambiguous")),
    "mark_refused": (
        "unknown",
        "failed",
        lambda lg, j: lg.mark_refused(j, detail={"remote": 0}),
    ),
    "retry_failed": ("failed", "planned", lambda lg, j: lg.retry_failed(j)),
    "resolve_review→planned": (
        "review",
        "planned",
        lambda lg, j: lg.resolve_review(j, "planned", note="not granted, checked by hand"),
    ),
    "resolve_review→done": (
        "review",
        "done",
        lambda lg, j: lg.resolve_review(j, "done", note="granted, seen in console"),
    ),
}

ALL_JOB_STATES: tuple[JobState, ...] = ("planned", "sending", "unknown", "done", "failed", "review")
#: Moves whose source state must have been reached by a refusal, and how.
REACH: dict[str, JobAction] = {"mark_refused": reach_refused_unknown}


@pytest.mark.parametrize("name", list(JOB_MOVES))
def test_legal_job_transition_moves_state_and_appends_one_event(ledger: Ledger, name: str) -> None:
    """Each legal job transition sets the new state and appends exactly one from→to event."""
    source, target, action = JOB_MOVES[name]
    seed(ledger, "j1")
    if name in REACH:
        REACH[name](ledger, "j1")
    else:
        reach_job(ledger, "j1", source)
    before = ledger.events("j1")
    action(ledger, "j1")
    after = ledger.events("j1")
    assert ledger.job("j1").state == target
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    assert (after[-1].from_state, after[-1].to_state) == (source, target)


ILLEGAL_JOB_CASES = [
    (name, state)
    for name, (source, _, _) in JOB_MOVES.items()
    for state in ALL_JOB_STATES
    if state != source
]


@pytest.mark.parametrize(("name", "state"), ILLEGAL_JOB_CASES)
def test_illegal_job_transition_raises_and_changes_nothing(
    ledger: Ledger, name: str, state: JobState
) -> None:
    """A transition from the wrong state raises LedgerError naming the job and both states."""
    source, _, action = JOB_MOVES[name]
    seed(ledger, "1234567890123456789-2")
    job_id = "1234567890123456789-2"
    reach_job(ledger, job_id, state)
    before = ledger.job(job_id)
    events_before = ledger.events()
    with pytest.raises(LedgerError) as caught:
        action(ledger, job_id)
    message = str(caught.value)
    assert job_id in message
    assert repr(state) in message
    assert repr(source) in message
    assert caught.value.where.job_id == job_id
    assert ledger.job(job_id) == before
    assert ledger.events() == events_before


def test_transition_of_unknown_job_names_it(ledger: Ledger) -> None:
    """Moving a job the ledger does not hold raises LedgerError saying it is not there."""
    seed(ledger, "j1")
    with pytest.raises(LedgerError, match=r"job nope is not in the ledger"):
        ledger.mark_sending("nope", "m-1")


def test_mark_sending_counts_attempts_and_stores_msg_id(ledger: Ledger) -> None:
    """Every mark_sending adds one attempt and stores its msg_id and time."""
    seed(ledger, "j1")
    ledger.mark_sending("j1", "m-1")
    ledger.mark_not_sent("j1", error="connect error")
    ledger.mark_sending("j1", "m-2")
    job = ledger.job("j1")
    assert (job.attempts, job.msg_id) == (2, "m-2")
    assert job.sent_at is not None
    assert job.last_error is None


def test_mark_failed_keeps_code_and_message_verbatim(ledger: Ledger) -> None:
    """A refusal's return_code and return_msg are stored exactly as the server sent them."""
    seed(ledger, "j1")
    ledger.mark_sending("j1", "m-1")
    ledger.mark_failed("j1", return_code="40001", return_msg="超出单客户限领数量 ")
    job = ledger.job("j1")
    assert (job.return_code, job.return_msg) == ("40001", "超出单客户限领数量 ")
    assert job.last_error is not None
    assert "40001" in job.last_error


def test_mark_done_stores_remote_ref_as_text(ledger: Ledger) -> None:
    """The remote reference of a done grant comes back as the same 19-digit string."""
    seed(ledger, "j1")
    ledger.mark_sending("j1", "m-1")
    ledger.mark_done("j1", remote_ref=BIG_ID)
    assert ledger.job("j1").remote_ref == BIG_ID


def test_mark_sending_many_is_all_or_nothing(ledger: Ledger) -> None:
    """If one job of a batch is not planned, no job of the batch is marked sending."""
    seed(ledger, "j1", "j2", "j3")
    reach_job(ledger, "j2", "failed")
    with pytest.raises(LedgerError, match="j2"):
        ledger.mark_sending_many([("j1", "m-1"), ("j2", "m-2"), ("j3", "m-3")])
    assert [ledger.job(j).state for j in ("j1", "j2", "j3")] == ["planned", "failed", "planned"]


def test_mark_sending_many_commits_every_job(ledger: Ledger) -> None:
    """A batch of planned jobs all become sending, each with its own msg_id and event."""
    seed(ledger, "j1", "j2")
    ledger.mark_sending_many([("j1", "m-1"), ("j2", "m-2")])
    assert [(ledger.job(j).state, ledger.job(j).msg_id) for j in ("j1", "j2")] == [
        ("sending", "m-1"),
        ("sending", "m-2"),
    ]
    assert [e.to_state for e in ledger.events("j2")] == ["planned", "sending"]


def test_batch_outcomes_adopt_and_absent(ledger: Ledger) -> None:
    """adopt_many and mark_absent_many settle several unknown jobs at once."""
    seed(ledger, "j1", "j2", "j3")
    for job_id in ("j1", "j2", "j3"):
        reach_job(ledger, job_id, "unknown")
    ledger.adopt_many([("j1", BIG_ID), ("j2", None)], detail={"found_by": "queryVoucherUsedInfo"})
    ledger.mark_absent_many(["j3"])
    assert [ledger.job(j).state for j in ("j1", "j2", "j3")] == ["done", "done", "planned"]
    assert ledger.events("j1")[-1].detail["found_by"] == "queryVoucherUsedInfo"


def test_retry_failed_many_replans_failed_jobs(ledger: Ledger) -> None:
    """retry_failed_many moves every listed failed job back to planned."""
    seed(ledger, "j1", "j2")
    reach_job(ledger, "j1", "failed")
    reach_job(ledger, "j2", "failed")
    ledger.retry_failed_many(["j1", "j2"])
    assert {j.job_id for j in ledger.jobs(state="planned")} == {"j1", "j2"}


def test_remote_ref_must_be_text(ledger: Ledger) -> None:
    """An int remote reference is refused before anything is written (ids stay text)."""
    seed(ledger, "j1")
    ledger.mark_sending("j1", "m-1")
    with pytest.raises(TypeError, match="remote_ref"):
        ledger.mark_done("j1", remote_ref=int(BIG_ID))  # type: ignore[arg-type]
    assert ledger.job("j1").state == "sending"


# --- vouchers --------------------------------------------------------------------------------

VoucherAction = Callable[[Ledger, str], None]

VOUCHER_MOVES: dict[str, tuple[VoucherState, VoucherState, VoucherAction]] = {
    "mark_voucher_sending": (
        "planned",
        "sending",
        lambda lg, k: lg.mark_voucher_sending(k, "m-1"),
    ),
    "mark_voucher_created": (
        "sending",
        "created",
        lambda lg, k: lg.mark_voucher_created(k, remote_id=BIG_ID),
    ),
    "mark_voucher_failed": (
        "sending",
        "failed",
        lambda lg, k: lg.mark_voucher_failed(k, return_code="1", return_msg="名称重复"),
    ),
    "mark_voucher_unknown": (
        "sending",
        "unknown",
        lambda lg, k: lg.mark_voucher_unknown(k, error="502"),
    ),
    "mark_voucher_not_sent": (
        "sending",
        "planned",
        lambda lg, k: lg.mark_voucher_not_sent(k, error="dns"),
    ),
    "adopt_voucher": ("unknown", "created", lambda lg, k: lg.adopt_voucher(k, remote_id=BIG_ID)),
    "mark_voucher_absent": ("unknown", "planned", lambda lg, k: lg.mark_voucher_absent(k)),
    "mark_voucher_review": (
        "unknown",
        "review",
        lambda lg, k: lg.mark_voucher_review(k, reason="two candidates"),
    ),
    "retry_failed_voucher": ("failed", "planned", lambda lg, k: lg.retry_failed_voucher(k)),
    "resolve_voucher_review→planned": (
        "review",
        "planned",
        lambda lg, k: lg.resolve_voucher_review(k, "planned", note="absent"),
    ),
    "resolve_voucher_review→created": (
        "review",
        "created",
        lambda lg, k: lg.resolve_voucher_review(k, "created", note="found", remote_id=BIG_ID),
    ),
}

ALL_VOUCHER_STATES: tuple[VoucherState, ...] = (
    "planned",
    "sending",
    "unknown",
    "created",
    "failed",
    "review",
)


@pytest.mark.parametrize("name", list(VOUCHER_MOVES))
def test_legal_voucher_transition_moves_state_and_appends_one_event(
    ledger: Ledger, name: str
) -> None:
    """Each legal voucher transition sets the new state and appends exactly one event."""
    source, target, action = VOUCHER_MOVES[name]
    seed(ledger)
    reach_voucher(ledger, VOUCHER, source)
    count = len(ledger.events(VOUCHER))
    action(ledger, VOUCHER)
    events = ledger.events(VOUCHER)
    assert ledger.voucher(VOUCHER).state == target
    assert len(events) == count + 1
    assert (events[-1].from_state, events[-1].to_state) == (source, target)


ILLEGAL_VOUCHER_CASES = [
    (name, state)
    for name, (source, _, _) in VOUCHER_MOVES.items()
    for state in ALL_VOUCHER_STATES
    if state != source
]


@pytest.mark.parametrize(("name", "state"), ILLEGAL_VOUCHER_CASES)
def test_illegal_voucher_transition_raises_and_changes_nothing(
    ledger: Ledger, name: str, state: VoucherState
) -> None:
    """A voucher transition from the wrong state raises naming the voucher key and states."""
    source, _, action = VOUCHER_MOVES[name]
    seed(ledger)
    reach_voucher(ledger, VOUCHER, state)
    before = ledger.voucher(VOUCHER)
    with pytest.raises(LedgerError) as caught:
        action(ledger, VOUCHER)
    message = str(caught.value)
    assert repr(VOUCHER) in message
    assert repr(state) in message
    assert repr(source) in message
    assert caught.value.where.yaml_path == f"vouchers.{VOUCHER}"
    assert ledger.voucher(VOUCHER) == before


def test_voucher_created_stores_remote_id_at_once(ledger: Ledger) -> None:
    """mark_voucher_created stores the server's id in the same step, as text."""
    seed(ledger)
    ledger.mark_voucher_sending(VOUCHER, "m-1")
    ledger.mark_voucher_created(VOUCHER, remote_id=BIG_ID)
    voucher = ledger.voucher(VOUCHER)
    assert (voucher.state, voucher.remote_id, voucher.attempts) == ("created", BIG_ID, 1)
