"""Review: the way out for jobs and vouchers no machine could settle.

A run puts a grant job or a voucher in ``review`` when the remote truth cannot be read
one way only (the remote holds fewer grants than the ledger confirms; several remote
vouchers match a lost create). Nothing moves it out again by itself: a person looks at
the evidence and decides.

:func:`review_items` lists everything in review with its event history and the
evidence the run recorded; :func:`resolve` records a person's decisions, each as one
event carrying their note and OS user name:

``ID=done``            it happened (a voucher: ``KEY=created:REMOTE_ID``, its remote id;
                       a job may add its instance id, ``ID=done:INSTANCE_ID``)
``ID=resend``          it did not happen: back to planned, the next run sends it again
``ID=failed``          give up on it for now: ``runner retry-failed`` tries it again later
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner.campaign import load_campaign
from runner.errors import LedgerError, Location, Problem, UsageError
from runner.ledger import (
    LEDGER_FILE,
    EventRecord,
    JobRecord,
    Ledger,
    VoucherRecord,
    campaign_dir,
)
from runner.ops._session import open_ledger
from runner.statedir import resolve_state_dir
from runner.summaries import EventView, ReviewItemView, ReviewListing, ReviewRecorded

__all__ = [
    "Decision",
    "Outcome",
    "ReviewItem",
    "event_view",
    "list_review",
    "parse_decision",
    "parse_decisions",
    "record_decisions",
    "resolve",
    "review_items",
]

ItemKind = Literal["job", "voucher"]
Outcome = Literal["done", "resend", "failed"]
_WORDS: dict[str, Outcome] = {
    "done": "done",
    "created": "done",
    "resend": "resend",
    "failed": "failed",
}
_SYNTAX = (
    "Write ID=done, ID=resend or ID=failed; a voucher that exists: KEY=created:REMOTE_ID "
    "(`runner review CAMPAIGN_FILE` lists the ids)."
)
# Event detail keys that are bookkeeping, not evidence.
_BOOKKEEPING = frozenset({"action", "msg_id", "note", "by"})


#: One job or voucher in review (the typed result ``runner review`` reports).
ReviewItem = ReviewItemView


def event_view(event: EventRecord) -> EventView:
    """One event of the ledger's log as ``runner review`` reports it."""
    return EventView.model_validate(
        {
            "at": event.at,
            "kind": event.entity_kind,
            "id": event.entity_id,
            "from": event.from_state,
            "to": event.to_state,
            "run_id": event.run_id,
            "detail": dict(event.detail),
        }
    )


@dataclass(frozen=True)
class Decision:
    """A person's decision on one id, as parsed from ``ID=OUTCOME[:REMOTE_ID]``.

    ``word`` is the outcome as written (``created`` is ``done`` for vouchers);
    ``remote_id`` the voucher's remote id, or a job's instance id.
    """

    id: str
    outcome: Outcome
    remote_id: str | None = None
    word: str = ""
    text: str = ""


# --- parsing ---------------------------------------------------------------------------


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"--resolve {text!r}: {why}", hint=_SYNTAX)


def parse_decision(text: str) -> Decision:
    """``ID=done``, ``ID=done:REMOTE_ID``, ``KEY=created:REMOTE_ID``, ``ID=resend``,
    ``ID=failed``; anything else is a :class:`~runner.errors.UsageError` naming it."""
    entity_id, sep, value = text.partition("=")
    if not sep:
        raise _bad(text, "expected ID=DECISION")
    if not entity_id or entity_id != entity_id.strip():
        raise _bad(text, "the id before '=' is empty or has spaces around it")
    word, colon, remote_id = value.partition(":")
    outcome = _WORDS.get(word)
    if outcome is None:
        raise _bad(text, f"unknown decision {value!r}")
    if word == "created" and not colon:
        raise _bad(text, "created needs the voucher's remote id: KEY=created:REMOTE_ID")
    if colon and outcome != "done":
        raise _bad(text, f"only done and created take a remote id, not {word}")
    if colon and (not remote_id or any(c.isspace() or c in ":=" for c in remote_id)):
        raise _bad(text, f"the remote id {remote_id!r} is empty or not one id")
    return Decision(entity_id, outcome, remote_id if colon else None, word, text)


def parse_decisions(texts: Iterable[str]) -> list[Decision]:
    """Every ``--resolve`` argument parsed; one id may be decided once."""
    decisions = [parse_decision(text) for text in texts]
    _one_each(decisions)
    return decisions


def _one_each(decisions: Sequence[Decision]) -> None:
    seen: dict[str, Decision] = {}
    for decision in decisions:
        first = seen.setdefault(decision.id, decision)
        if first is not decision:
            raise UsageError(
                f"--resolve decides {decision.id} twice "
                f"({first.text or first.outcome!r} and {decision.text or decision.outcome!r})",
                hint="Give each id one decision.",
            )


# --- listing -------------------------------------------------------------------------------


def _exists(state_dir: Path, campaign_id: str) -> bool:
    return (campaign_dir(state_dir, campaign_id) / LEDGER_FILE).is_file()


def review_items(state_dir: Path, campaign_id: str) -> list[ReviewItem]:
    """Every voucher, then every job, in review (also those no longer planned); read-only.

    A campaign that never ran has nothing in review.
    """
    if not _exists(state_dir, campaign_id):
        return []
    with open_ledger(state_dir, campaign_id, read_only=True) as ledger:
        return _items(ledger)


def _items(ledger: Ledger) -> list[ReviewItem]:
    vouchers = [v for v in ledger.vouchers(active=None) if v.state == "review"]
    items = [_voucher_item(v, _history(ledger, "voucher", v.voucher_key)) for v in vouchers]
    confirmed: dict[str, dict[str, int]] = {}
    for job in ledger.jobs("review", active=None):
        if job.voucher_key not in confirmed:
            confirmed[job.voucher_key] = ledger.confirmed_grants(job.voucher_key)
        done = confirmed[job.voucher_key].get(job.customer_key, 0)
        items.append(_job_item(job, done, _history(ledger, "job", job.job_id)))
    return items


def _history(ledger: Ledger, kind: ItemKind, entity_id: str) -> tuple[EventRecord, ...]:
    return tuple(e for e in ledger.events(entity_id) if e.entity_kind == kind)


def _evidence(events: Sequence[EventRecord]) -> tuple[str, ...]:
    """The ``error``/``reason`` texts since the last send, and the review move's details."""
    start = max((i for i, e in enumerate(events) if e.to_state == "sending"), default=0)
    texts: list[str] = []
    for event in events[start:]:
        for key in ("error", "reason"):
            value = event.detail.get(key)
            if isinstance(value, str) and value:
                texts.append(value)
        if event.to_state == "review":
            texts += _extra_details(event.detail)
    return tuple(dict.fromkeys(texts))


def _extra_details(detail: Mapping[str, object]) -> list[str]:
    skip = _BOOKKEEPING | {"error", "reason"}
    return [f"{k}={v}" for k, v in detail.items() if k not in skip and v is not None]


def _voucher_item(voucher: VoucherRecord, events: tuple[EventRecord, ...]) -> ReviewItem:
    return ReviewItem(
        kind="voucher",
        id=voucher.voucher_key,
        voucher_key=voucher.voucher_key,
        customer_key=None,
        key_kind=None,
        customer_name=None,
        reason=voucher.last_error,
        attempts=voucher.attempts,
        active=voucher.active,
        ledger_confirms=None,
        evidence=_evidence(events),
        events=tuple(event_view(e) for e in events),
    )


def _job_item(job: JobRecord, confirmed: int, events: tuple[EventRecord, ...]) -> ReviewItem:
    return ReviewItem(
        kind="job",
        id=job.job_id,
        voucher_key=job.voucher_key,
        customer_key=job.customer_key,
        key_kind=job.key_kind,
        customer_name=job.customer_name,
        reason=job.last_error,
        attempts=job.attempts,
        active=job.active,
        ledger_confirms=confirmed,
        evidence=_evidence(events),
        events=tuple(event_view(e) for e in events),
    )


# --- resolving -------------------------------------------------------------------------------


def resolve(
    state_dir: Path,
    campaign_id: str,
    decisions: Sequence[Decision],
    note: str,
    *,
    by: str | None = None,
) -> list[EventRecord]:
    """Record each decision as one event with ``note`` (and ``by``, default the OS user).

    Takes the campaign lock. Every decision is checked first: an unknown id, one not in
    review, or a voucher marked done without its remote id refuses the whole batch with
    a :class:`~runner.errors.UsageError` naming each, and nothing is written. Returns
    the recorded events.
    """
    if not note or not note.strip():
        raise UsageError(
            "a review decision needs a note saying why (--note TEXT)",
            hint="e.g. --note 'checked the vendor console: granted once'",
        )
    if not decisions:
        raise UsageError("no decision to record", hint=_SYNTAX)
    _one_each(decisions)
    if not _exists(state_dir, campaign_id):
        raise UsageError(
            f"campaign {campaign_id!r} has no ledger in {state_dir}: nothing is in review",
            hint="Pass the --state-dir the campaign ran with.",
        )
    with open_ledger(state_dir, campaign_id, command="review") as ledger:
        in_review = _in_review(ledger)
        owned = {v.remote_id: v.voucher_key for v in ledger.vouchers(active=None) if v.remote_id}
        problems = [p for d in decisions if (p := _check(ledger, d, in_review, owned)) is not None]
        if problems:
            raise _refused(problems)
        return [_apply(ledger, d, in_review, note, by) for d in decisions]


def _in_review(ledger: Ledger) -> set[tuple[ItemKind, str]]:
    found: set[tuple[ItemKind, str]] = {
        ("voucher", v.voucher_key) for v in ledger.vouchers(active=None) if v.state == "review"
    }
    return found | {("job", j.job_id) for j in ledger.jobs("review", active=None)}


def _kind_of(decision: Decision, in_review: set[tuple[ItemKind, str]]) -> ItemKind:
    return "voucher" if ("voucher", decision.id) in in_review else "job"


def _check(
    ledger: Ledger,
    decision: Decision,
    in_review: set[tuple[ItemKind, str]],
    owned: dict[str, str],
) -> Problem | None:
    """Why this decision cannot be applied, or None (vouchers are looked up first).

    ``owned`` maps remote voucher ids to their keys; a voucher's accepted id joins it.
    """
    listing = "`runner review CAMPAIGN_FILE` lists what is in review."
    if ("voucher", decision.id) in in_review:
        return _check_voucher(decision, owned)
    if ("job", decision.id) not in in_review:
        state = _state_of(ledger, decision.id)
        if state is None:
            message = f"{decision.id} is neither a job nor a voucher of this campaign's ledger"
            return Problem(message, Location(job_id=decision.id), "Check the id. " + listing)
        kind, where, now = state
        message = f"{kind} {decision.id} is {now!r}, not in review: there is nothing to decide"
        return Problem(message, where, listing)
    if decision.word == "created":
        return Problem(
            f"job {decision.id}: a grant is done, not created",
            Location(job_id=decision.id),
            f"Write {decision.id}=done (or {decision.id}=done:INSTANCE_ID).",
        )
    return None


def _check_voucher(decision: Decision, owned: dict[str, str]) -> Problem | None:
    where = Location(yaml_path=f"vouchers.{decision.id}")
    if decision.outcome != "done":
        return None
    if decision.remote_id is None:
        return Problem(
            f"voucher {decision.id!r} cannot be marked done without its remote voucher id",
            where,
            f"Find it in the vendor console (the evidence lists candidate ids) and write "
            f"{decision.id}=created:REMOTE_ID.",
        )
    other = owned.get(decision.remote_id)
    if other is not None:
        return Problem(
            f"voucher {decision.id!r}: remote id {decision.remote_id} already belongs to "
            f"voucher {other!r}",
            where,
            "One remote voucher backs one key: pick the other candidate, or resend.",
        )
    owned[decision.remote_id] = decision.id
    return None


def _state_of(ledger: Ledger, entity_id: str) -> tuple[ItemKind, Location, str] | None:
    """The kind, location and state of an id the ledger holds outside review, or None."""
    for voucher in ledger.vouchers(active=None):
        if voucher.voucher_key == entity_id:
            return "voucher", Location(yaml_path=f"vouchers.{entity_id}"), voucher.state
    try:
        job = ledger.job(entity_id)
    except LedgerError:  # not in the ledger
        return None
    return "job", Location(job_id=entity_id), job.state


def _refused(problems: Sequence[Problem]) -> UsageError:
    if len(problems) == 1:
        only = problems[0]
        return UsageError(f"{only.message}; nothing was recorded", where=only.where, hint=only.hint)
    listed = "; ".join(p.message for p in problems)
    return UsageError(
        f"{len(problems)} decisions refused, nothing was recorded: {listed}",
        where=problems[0].where,
        hint="Fix or drop these --resolve arguments and run it again.",
    )


def _apply(
    ledger: Ledger,
    decision: Decision,
    in_review: set[tuple[ItemKind, str]],
    note: str,
    by: str | None,
) -> EventRecord:
    kind = _kind_of(decision, in_review)
    key = decision.id
    if kind == "voucher":
        to_voucher: Literal["planned", "created", "failed"] = (
            "created" if decision.outcome == "done" else _not_done(decision.outcome)
        )
        ledger.resolve_voucher_review(
            key, to_voucher, note=note, remote_id=decision.remote_id, by=by
        )
    else:
        to_job: Literal["planned", "done", "failed"] = (
            "done" if decision.outcome == "done" else _not_done(decision.outcome)
        )
        ledger.resolve_review(key, to_job, note=note, remote_ref=decision.remote_id, by=by)
    return _history(ledger, kind, key)[-1]


def _not_done(outcome: Outcome) -> Literal["planned", "failed"]:
    return "planned" if outcome == "resend" else "failed"


def list_review(campaign_path: Path, state_dir: Path | None) -> ReviewListing:
    """``runner review``: every job and voucher in review, with evidence and history."""
    campaign = load_campaign(campaign_path, past_end_ok=True)
    directory = resolve_state_dir(campaign, state_dir)
    items = review_items(directory, campaign.campaign)
    return ReviewListing(
        campaign=campaign.campaign,
        ledger_file=str(campaign_dir(directory, campaign.campaign) / LEDGER_FILE),
        in_review=len(items),
        items=items,
    )


def record_decisions(
    campaign_path: Path, state_dir: Path | None, resolutions: Sequence[str], note: str | None
) -> ReviewRecorded:
    """``runner review --resolve``: check every decision, then record each as one event."""
    if note is None or not note.strip():
        raise UsageError(
            "--resolve needs --note saying why",
            hint="e.g. --note 'checked the vendor console: granted once'",
        )
    decisions = parse_decisions(resolutions)
    campaign = load_campaign(campaign_path, past_end_ok=True)
    directory = resolve_state_dir(campaign, state_dir)
    recorded = resolve(directory, campaign.campaign, decisions, note)
    return ReviewRecorded(campaign=campaign.campaign, recorded=[event_view(e) for e in recorded])
