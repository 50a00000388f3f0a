"""The review use case: listing what is in review with its evidence, and recording decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.errors import LockHeld, UsageError
from runner.ledger import CampaignLock, Ledger, campaign_dir
from runner.ops.review import (
    Decision,
    ReviewItem,
    parse_decision,
    parse_decisions,
    resolve,
    review_items,
)
from runner.summaries import to_json
from tests.ledger.helpers import (
    BIG_ID,
    VOUCHER,
    job_row,
    reach_job,
    reach_voucher,
    seed,
    table_dump,
    voucher_row,
)

CAMPAIGN = "spring-2025"
OTHER_ID = "6856083179295188427"
REMOTE_TEXT = "remote holds 1 instance(s) but the ledger confirms 2"


def _ledger(state: Path) -> Ledger:
    return Ledger.open(state, CAMPAIGN, command="test")


def _file(state: Path) -> Path:
    return campaign_dir(state, CAMPAIGN) / "ledger.sqlite"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A ledger with jobs j1 (review), j2 (done), j3 (review, remote evidence), j4 (planned)."""
    directory = tmp_path / "state"
    with _ledger(directory) as ledger:
        seed(ledger, "j1", "j2", "j3", "j4")
        reach_job(ledger, "j1", "review")
        reach_job(ledger, "j2", "done")
        ledger.mark_sending("j3", "m-3")
        ledger.mark_unknown("j3", error="read timeout")
        ledger.mark_review("j3", reason=REMOTE_TEXT, detail={"remote": 1, "confirmed": 2})
    return directory


def _voucher_in_review(tmp_path: Path) -> Path:
    directory = tmp_path / "vstate"
    with _ledger(directory) as ledger:
        report = ledger.sync_plan(
            "h", [voucher_row(), voucher_row("other")], [job_row("j1"), job_row("j2", "other")]
        )
        assert report.applied
        reach_voucher(ledger, VOUCHER, "review")
        reach_voucher(ledger, "other", "created")
    return directory


def _by_id(state: Path) -> dict[str, ReviewItem]:
    return {item.id: item for item in review_items(state, CAMPAIGN)}


# --- listing ---------------------------------------------------------------------------------


def test_lists_only_what_is_in_review_with_its_events(state: Path) -> None:
    """Only jobs in review are listed, each with its whole event history in order."""
    items = review_items(state, CAMPAIGN)
    assert [(i.kind, i.id) for i in items] == [("job", "j1"), ("job", "j3")]
    j3 = items[1]
    assert [(e.from_, e.to) for e in j3.events] == [
        (None, "planned"),
        ("planned", "sending"),
        ("sending", "unknown"),
        ("unknown", "review"),
    ]
    assert (j3.voucher_key, j3.customer_key, j3.key_kind) == (VOUCHER, "c-j3", "cm_id")
    assert j3.reason == REMOTE_TEXT


def test_evidence_carries_the_remote_counts_the_run_recorded(state: Path) -> None:
    """The evidence names why the outcome was lost and the remote counts that put it in review."""
    j3 = review_items(state, CAMPAIGN)[1]
    assert j3.evidence[:2] == ("read timeout", REMOTE_TEXT)
    assert sorted(j3.evidence[2:]) == ["confirmed=2", "remote=1"]
    assert j3.ledger_confirms == 0


def test_ledger_confirms_counts_done_grants_of_the_same_customer(tmp_path: Path) -> None:
    """A job in review shows how many grants of its voucher to its customer are done."""
    directory = tmp_path / "state"
    with _ledger(directory) as ledger:
        jobs = [job_row("a1", customer_key="c1", seq=1), job_row("a2", customer_key="c1", seq=2)]
        assert ledger.sync_plan("h", [voucher_row()], jobs).applied
        reach_job(ledger, "a1", "done")
        reach_job(ledger, "a2", "review")
    (item,) = review_items(directory, CAMPAIGN)
    assert (item.id, item.ledger_confirms) == ("a2", 1)


def test_evidence_is_from_the_last_attempt_only(state: Path) -> None:
    """A job resent after review and reviewed again shows the evidence of the new attempt."""
    with _ledger(state) as ledger:
        ledger.resolve_review("j1", "planned", note="absent")
        ledger.mark_sending("j1", "m-again")
        ledger.mark_unknown("j1", error="connection reset")
        ledger.mark_review("j1", reason="remote holds 0 instance(s) but the ledger confirms 1")
    j1 = _by_id(state)["j1"]
    assert j1.evidence == (
        "connection reset",
        "remote holds 0 instance(s) but the ledger confirms 1",
    )


def test_lists_a_voucher_in_review(tmp_path: Path) -> None:
    """A voucher in review is listed with its evidence and without customer fields."""
    directory = _voucher_in_review(tmp_path)
    (item,) = review_items(directory, CAMPAIGN)
    assert (item.kind, item.id, item.customer_key, item.ledger_confirms) == (
        "voucher",
        VOUCHER,
        None,
        None,
    )
    assert item.evidence == ("connection reset", "two vouchers match")
    assert item.events[-1].to == "review"


def test_job_no_longer_planned_is_still_listed(state: Path) -> None:
    """A job in review that left the plan is listed, marked inactive."""
    with _ledger(state) as ledger:
        jobs = [job_row(j, customer_key=f"c-{j}") for j in ("j2", "j3", "j4")]
        assert ledger.sync_plan("hash-2", [voucher_row()], jobs).applied
    items = _by_id(state)
    assert items["j1"].active is False
    assert items["j3"].active is True


def test_an_item_in_json_holds_its_events(state: Path) -> None:
    """An item's JSON form holds its events as from/to/detail values."""
    data = json.loads(to_json(review_items(state, CAMPAIGN)[1]))
    assert data["id"] == "j3"
    events = data["events"]
    assert isinstance(events, list)
    assert events[-1]["from"] == "unknown"
    assert events[-1]["detail"]["error"] == REMOTE_TEXT


def test_campaign_that_never_ran_has_nothing_in_review_and_no_ledger_is_made(
    tmp_path: Path,
) -> None:
    """Listing a campaign without a ledger returns nothing and creates no file."""
    directory = tmp_path / "state"
    assert review_items(directory, CAMPAIGN) == []
    assert not directory.exists()


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j1=done", Decision("j1", "done", None, "done", "j1=done")),
        ("j1=done:123", Decision("j1", "done", "123", "done", "j1=done:123")),
        ("j1=resend", Decision("j1", "resend", None, "resend", "j1=resend")),
        ("j1=failed", Decision("j1", "failed", None, "failed", "j1=failed")),
        ("ten-off=created:99", Decision("ten-off", "done", "99", "created", "ten-off=created:99")),
    ],
)
def test_parse_accepts_each_decision(text: str, expected: Decision) -> None:
    """Each documented ID=DECISION form parses to its decision."""
    assert parse_decision(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "j1",
        "=done",
        " j1=done",
        "j1=",
        "j1=Done",
        "j1=retry",
        "j1=done ",
        "j1=created",
        "j1=resend:1",
        "j1=failed:1",
        "j1=done:",
        "j1=created:1 2",
        "j1=done:1:2",
    ],
)
def test_parse_refuses_bad_syntax_naming_the_argument(text: str) -> None:
    """A malformed decision is a UsageError that quotes the argument and says what to write."""
    with pytest.raises(UsageError) as caught:
        parse_decision(text)
    assert repr(text) in caught.value.message
    assert caught.value.hint is not None
    assert "ID=done" in caught.value.hint


def test_parse_refuses_two_decisions_for_one_id() -> None:
    """The same id decided twice is refused, naming both arguments."""
    with pytest.raises(UsageError, match="twice") as caught:
        parse_decisions(["j1=done", "j1=resend"])
    assert "'j1=resend'" in caught.value.message


# --- resolving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "state_after"), [("done", "done"), ("resend", "planned"), ("failed", "failed")]
)
def test_resolve_records_one_event_with_the_note(state: Path, word: str, state_after: str) -> None:
    """Each decision moves the job out of review and records the note and the person."""
    recorded = resolve(state, CAMPAIGN, [parse_decision(f"j1={word}")], "checked", by="carol")
    (event,) = recorded
    assert (event.entity_id, event.from_state, event.to_state) == ("j1", "review", state_after)
    assert (event.detail["note"], event.detail["by"]) == ("checked", "carol")
    with _ledger(state) as ledger:
        assert ledger.job("j1").state == state_after
        assert ledger.events("j1")[-1] == event
    assert [i.id for i in review_items(state, CAMPAIGN)] == ["j3"]


def test_resolve_a_batch(state: Path) -> None:
    """Several decisions are all recorded, in the order given."""
    recorded = resolve(state, CAMPAIGN, parse_decisions(["j3=done:77", "j1=resend"]), "by hand")
    assert [(e.entity_id, e.to_state) for e in recorded] == [("j3", "done"), ("j1", "planned")]
    assert review_items(state, CAMPAIGN) == []
    with _ledger(state) as ledger:
        assert ledger.job("j3").remote_ref == "77"


def test_resolve_voucher_created_with_its_remote_id(tmp_path: Path) -> None:
    """KEY=created:REMOTE_ID makes the voucher created with that id."""
    directory = _voucher_in_review(tmp_path)
    (event,) = resolve(directory, CAMPAIGN, [parse_decision(f"{VOUCHER}=created:{OTHER_ID}")], "n")
    assert (event.entity_kind, event.to_state, event.detail["remote_id"]) == (
        "voucher",
        "created",
        OTHER_ID,
    )
    with _ledger(directory) as ledger:
        assert ledger.voucher(VOUCHER).remote_id == OTHER_ID


def _refused(state: Path, texts: list[str], note: str = "n") -> UsageError:
    before = table_dump(_file(state))
    with pytest.raises(UsageError) as caught:
        resolve(state, CAMPAIGN, parse_decisions(texts), note)
    assert table_dump(_file(state)) == before
    return caught.value


def test_unknown_id_refused_and_nothing_written(state: Path) -> None:
    """An id the ledger does not hold refuses the batch, naming it, and writes nothing."""
    err = _refused(state, ["j1=done", "nope=resend"])
    assert "nope" in err.message
    assert "nothing was recorded" in err.message
    assert err.where.job_id == "nope"


def test_id_not_in_review_refused_and_nothing_written(state: Path) -> None:
    """A job that is not in review refuses the batch, saying its state."""
    err = _refused(state, ["j2=resend", "j1=done"])
    assert "job j2 is 'done', not in review" in err.message
    assert err.hint is not None
    assert "runner review" in err.hint


def test_every_wrong_id_is_named(state: Path) -> None:
    """Several wrong ids are all named in one refusal."""
    err = _refused(state, ["j2=resend", "j4=done", "zz=failed", "j1=done"])
    assert "3 decisions refused" in err.message
    for name in ("j2", "j4", "zz"):
        assert name in err.message


def test_voucher_done_without_remote_id_refused(tmp_path: Path) -> None:
    """A voucher decided done without its remote id is refused with how to give it."""
    directory = _voucher_in_review(tmp_path)
    err = _refused(directory, [f"{VOUCHER}=done"])
    assert "remote voucher id" in err.message
    assert err.hint is not None
    assert f"{VOUCHER}=created:REMOTE_ID" in err.hint
    assert err.where.yaml_path == f"vouchers.{VOUCHER}"


def test_voucher_remote_id_owned_by_another_voucher_refused(tmp_path: Path) -> None:
    """A remote id that already backs another voucher key is refused."""
    directory = _voucher_in_review(tmp_path)
    err = _refused(directory, [f"{VOUCHER}=created:{BIG_ID}"])  # 'other' was created as BIG_ID
    assert "already belongs to voucher 'other'" in err.message


def test_voucher_not_in_review_refused(tmp_path: Path) -> None:
    """A created voucher cannot be resolved: it is not in review."""
    directory = _voucher_in_review(tmp_path)
    err = _refused(directory, [f"other=created:{OTHER_ID}"])
    assert "voucher other is 'created', not in review" in err.message


def test_job_decided_created_is_refused(state: Path) -> None:
    """A job written as created is refused with the done form to use instead."""
    err = _refused(state, ["j1=created:5"])
    assert err.hint is not None
    assert "j1=done" in err.hint


@pytest.mark.parametrize("note", ["", "  "])
def test_missing_note_refused_and_nothing_written(state: Path, note: str) -> None:
    """A decision without a note is refused before anything is written."""
    err = _refused(state, ["j1=done"], note=note)
    assert "--note" in err.message


def test_duplicate_decisions_refused(state: Path) -> None:
    """Decisions built by hand that decide one id twice are refused."""
    before = table_dump(_file(state))
    decisions = [Decision("j1", "done"), Decision("j1", "resend")]
    with pytest.raises(UsageError, match="twice"):
        resolve(state, CAMPAIGN, decisions, "n")
    assert table_dump(_file(state)) == before


def test_resolve_without_ledger_refused_and_nothing_created(tmp_path: Path) -> None:
    """Resolving in a state directory where the campaign never ran creates no ledger."""
    directory = tmp_path / "state"
    with pytest.raises(UsageError, match="has no ledger"):
        resolve(directory, CAMPAIGN, [parse_decision("j1=done")], "n")
    assert not directory.exists()


def test_resolve_takes_the_campaign_lock(state: Path) -> None:
    """While another runner holds the campaign lock, resolving is refused with LockHeld."""
    before = table_dump(_file(state))
    with CampaignLock(campaign_dir(state, CAMPAIGN), command="run"), pytest.raises(LockHeld):
        resolve(state, CAMPAIGN, [parse_decision("j1=done")], "n")
    assert table_dump(_file(state)) == before
