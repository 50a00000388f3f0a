"""The lifecycle phase: end-date moves and finishes of created vouchers, exactly once.

For each :class:`~runner.plan.Wanted` (the campaign file's end date and finish, or a
command's), the voucher is brought there with ``modifyVoucherEndDate`` /
``finishVoucher`` under the write-ahead rule of grants: the change is ``planned``, then
``sending`` and committed before the request leaves, and settled as soon as the answer
is in. Before anything is sent:

- every change whose outcome is unknown (a lost answer, a kill) is settled by reading
  the voucher back twice, ``settle_s`` apart (:func:`~runner.execute.settle_change`):
  it is there (done), it never arrived (planned: sent again if still wanted), or a
  person looks (review);
- the voucher is read back once more: a change the remote already shows is recorded
  without sending it (finishing a finished voucher costs nothing).

A refused change stays ``failed``: ``run`` reports it each time, ``retry-failed`` sends
it again. A planned or reviewed change that is no longer wanted is dropped, except one a
command recorded (``runner finish``/``extend`` whose request did not get through): a
run completes it first, and judges the campaign file again next time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import structlog

from runner import logs
from runner.errors import Refused
from runner.execute._attempts import AttemptResult, attempt_write
from runner.execute._context import RunContext
from runner.execute._readback import read_back
from runner.execute._settle import (
    ChangeDecision,
    RemoteVoucherState,
    already_applied,
    settle_change,
)
from runner.ledger import ChangeRecord, ChangeRow, VoucherLifecycle, VoucherRecord
from runner.plan import Wanted
from runner.summaries import ChangeOutcome, ChangeOutcomeView

__all__ = ["apply_lifecycle", "settle_changes"]

log = structlog.get_logger(__name__)

Action = Literal["end_date", "finish"]
_OPERATION: dict[Action, str] = {"end_date": "modifyVoucherEndDate", "finish": "finishVoucher"}


def _view(
    change: ChangeRow, change_id: str | None, outcome: ChangeOutcome, message: str
) -> ChangeOutcomeView:
    return ChangeOutcomeView(
        voucher_key=change.voucher_key,
        change_id=change_id,
        action=change.action,
        from_end_date=change.previous_end_date,
        to_end_date=change.end_date,
        outcome=outcome,
        message=message,
    )


# --- settling what a lost answer or a kill left unknown ------------------------------------


async def _decisions(ctx: RunContext, changes: Sequence[ChangeRecord]) -> dict[str, ChangeDecision]:
    """Each change decided against its voucher read back (one listing for all)."""
    records = {c.voucher_key: ctx.ledger.voucher(c.voucher_key) for c in changes}
    remote = await read_back(ctx, list(records.values()))
    return {
        c.change_id: settle_change(
            c.action,
            c.end_date,
            c.previous_end_date,
            remote.get(records[c.voucher_key].remote_id or ""),
        )
        for c in changes
    }


def _apply_decision(ctx: RunContext, change: ChangeRecord, decision: ChangeDecision) -> None:
    ledger, reason = ctx.ledger, decision.reason
    if decision.outcome == "adopt":
        ledger.adopt_change(change.change_id, reason=reason)
    elif decision.outcome == "resend":
        ledger.mark_change_absent(change.change_id, reason=reason)
    else:
        ledger.mark_change_review(change.change_id, reason=reason)
    log.info("settled change", change=change.change_id, outcome=decision.outcome, reason=reason)


async def settle_changes(ctx: RunContext, only: str | None = None) -> int:
    """Settle every unknown change (of voucher *only*, or all): two reads ``settle_s``
    apart must agree, else they stay unknown. Returns how many were settled."""
    unknown = [c for c in ctx.ledger.changes(only) if c.state == "unknown"]
    if not unknown:
        return 0
    await asyncio.sleep(ctx.settings.settle_s)
    first = await _decisions(ctx, unknown)
    await asyncio.sleep(ctx.settings.settle_s)
    second = await _decisions(ctx, unknown)
    settled = 0
    for change in unknown:
        if first[change.change_id] != second[change.change_id]:
            log.info("voucher still moving: change stays unknown", change=change.change_id)
            continue
        _apply_decision(ctx, change, second[change.change_id])
        settled += 1
    return settled


# --- bringing one voucher where it is wanted -----------------------------------------------


def _needed(wanted: Wanted, life: VoucherLifecycle) -> list[tuple[Action, str | None]]:
    """The changes between what the ledger knows and what is wanted, end date first."""
    if life.finished:
        return []  # nothing changes a finished voucher (plan and commands refuse it)
    steps: list[tuple[Action, str | None]] = []
    if wanted.end_date is not None and wanted.end_date != life.end_date:
        steps.append(("end_date", wanted.end_date))
    if wanted.finish:
        steps.append(("finish", None))
    return steps


def _catch_up(ctx: RunContext, wanted: Wanted, life: VoucherLifecycle) -> None:
    """The campaign file now says the end date a command set: record that it caught up
    (nothing is sent), so that changing the file again later is a change, not "behind"."""
    last = life.last_end_change
    if (
        wanted.origin == "campaign"
        and wanted.end_date is not None
        and wanted.end_date == life.end_date
        and last is not None
        and last.origin == "command"
        and life.open_change is None
    ):
        row = ChangeRow(wanted.voucher_key, "end_date", life.end_date, life.end_date, "campaign")
        ctx.ledger.record_change(
            row, reason="the campaign file now says the end date set by a command"
        )


def _drop_unwanted(ctx: RunContext, life: VoucherLifecycle) -> None:
    """A planned or reviewed change nothing asks for any more is dropped."""
    change = life.open_change
    if change is not None and change.state in ("planned", "review"):
        ctx.ledger.drop_change(change.change_id, reason="no longer wanted")


def _reuse_or_plan(
    ctx: RunContext, row: ChangeRow, life: VoucherLifecycle
) -> str | ChangeOutcomeView:
    """The change id to send (an open one asking the same, a refused one to retry, or a
    new one), or the outcome that says why nothing is sent."""
    if life.open_change is not None:
        return _reuse_open(ctx, row, life.open_change)
    latest = life.latest
    if latest is not None and _refused_before(latest, row):
        if not ctx.retry_failed:
            why = f"refused earlier ({latest.last_error}); `runner retry-failed` sends it again"
            return _view(latest, latest.change_id, "refused", why)
        ctx.ledger.retry_failed_change(latest.change_id)
        return latest.change_id
    return ctx.ledger.plan_change(row)


def _reuse_open(ctx: RunContext, row: ChangeRow, change: ChangeRecord) -> str | ChangeOutcomeView:
    """An open change: still unknown (wait), in review (a person decides, unless a command
    is that decision), planned for the same (send it), else replaced by *row*."""
    same = change.same_target(row.action, row.end_date)
    if change.state == "unknown":
        why = "its outcome is still unknown: the next run reads the voucher back again"
        return _view(change, change.change_id, "unknown", why)
    if change.state == "review" and same and row.origin != "command":
        return _view(change, change.change_id, "review", change.last_error or "needs a person")
    if change.state == "planned" and same:
        return change.change_id
    by = "a command" if row.origin == "command" else f"{row.action} {row.end_date}"
    ctx.ledger.drop_change(change.change_id, reason=f"replaced by {by}")
    return ctx.ledger.plan_change(row)


def _refused_before(latest: ChangeRecord, row: ChangeRow) -> bool:
    """The voucher's newest change asked the same and was refused."""
    return latest.state == "failed" and latest.same_target(row.action, row.end_date)


async def _send(ctx: RunContext, change_id: str, row: ChangeRow, remote_id: str) -> AttemptResult:
    ledger = ctx.ledger

    async def send(msg_id: str) -> object:
        ctx.calls[_OPERATION[row.action]] += 1
        if row.action == "finish":
            await ctx.client.finish_voucher(remote_id, msg_id=msg_id)
        else:
            await ctx.client.modify_voucher_end_date(remote_id, str(row.end_date), msg_id=msg_id)
        return None

    result = await attempt_write(
        ctx,
        mark_sending=lambda msg_id: ledger.mark_change_sending(change_id, msg_id),
        mark_not_sent=lambda error: ledger.mark_change_not_sent(change_id, error=error),
        send=send,
    )
    err = result.error
    if result.outcome == "ok":
        ledger.mark_change_done(change_id)
    elif isinstance(err, Refused):
        ledger.mark_change_failed(change_id, return_code=err.return_code, return_msg=err.return_msg)
    elif result.outcome == "unknown" and err is not None:
        ledger.mark_change_unknown(change_id, error=err.message)
    log.info("change sent", change=change_id, outcome=result.outcome)
    return result


_SENT: dict[str, tuple[ChangeOutcome, str]] = {
    "ok": ("done", "sent and confirmed"),
    "not_sent": ("not_sent", "not sent: retries ran out; a rerun sends it"),
    "stopped": ("stopped", "not sent: the command was stopped"),
}


async def _one(
    ctx: RunContext, wanted: Wanted, action: Action, end_date: str | None, record: VoucherRecord
) -> ChangeOutcomeView:
    """Bring one voucher one step (a new end date, or finished); settles a lost answer at
    once (two reads), and sends again while it proves absent, up to ``rounds`` times."""
    key, remote_id = wanted.voucher_key, str(record.remote_id)
    row, change_id = ChangeRow(key, action, end_date, None, wanted.origin), None
    for _ in range(ctx.settings.rounds):
        life = ctx.ledger.lifecycle(key)
        row = ChangeRow(key, action, end_date, life.end_date, wanted.origin, wanted.file_end_date)
        planned = _reuse_or_plan(ctx, row, life)
        if isinstance(planned, ChangeOutcomeView):
            return planned
        change_id = planned
        shown = await _remote(ctx, record)
        if shown is not None and already_applied(action, end_date, shown):
            ctx.ledger.change_already_applied(change_id, reason="the voucher already reads back so")
            return _view(
                row, change_id, "already", "the voucher already read back so: nothing sent"
            )
        result = await _send(ctx, change_id, row, remote_id)
        if result.outcome in _SENT:
            return _view(row, change_id, *_SENT[result.outcome])
        if isinstance(result.error, Refused):
            err = result.error
            why = f"refused by the vendor: {err.return_msg} (return_code {err.return_code})"
            return _view(row, change_id, "refused", why)
        await settle_changes(ctx, key)  # unknown: read it back now
        state = ctx.ledger.change(change_id).state
        if state == "done":
            return _view(row, change_id, "done", "the answer was lost; the voucher reads back so")
        if state != "planned":
            change = ctx.ledger.change(change_id)
            return _view(
                row,
                change_id,
                "review" if state == "review" else "unknown",
                change.last_error or state,
            )
    why = f"sent {ctx.settings.rounds} time(s); it never arrived: a rerun sends it again"
    return _view(row, change_id, "not_sent", why)


async def _remote(ctx: RunContext, record: VoucherRecord) -> RemoteVoucherState | None:
    shown = await read_back(ctx, [record])
    return shown.get(str(record.remote_id))


def _command_wish(life: VoucherLifecycle) -> Wanted | None:
    """A command's change that did not get through (planned, or in review): still wanted."""
    change = life.open_change
    if change is None or change.origin != "command" or change.state not in ("planned", "review"):
        return None
    return Wanted(
        change.voucher_key,
        change.end_date,
        change.action == "finish",
        "command",
        change.file_end_date,
    )


async def _converge(ctx: RunContext, wanted: Wanted) -> list[ChangeOutcomeView]:
    record = ctx.ledger.voucher(wanted.voucher_key)
    if record.state != "created" or record.remote_id is None:
        return []
    life = ctx.ledger.lifecycle(wanted.voucher_key)
    wish = _command_wish(life) if wanted.origin == "campaign" else None
    if wish is not None:  # the file is judged against its outcome on the next run
        wanted = wish
    needed = _needed(wanted, life)
    if not needed:
        _catch_up(ctx, wanted, life)
        _drop_unwanted(ctx, life)
        return []
    outcomes: list[ChangeOutcomeView] = []
    for action, end_date in needed:
        if ctx.stopping:
            break
        outcome = await _one(ctx, wanted, action, end_date, record)
        outcomes.append(outcome)
        if outcome.outcome not in ("done", "already"):
            break
    return outcomes


async def apply_lifecycle(
    ctx: RunContext, wanted: Sequence[Wanted] | None = None
) -> list[ChangeOutcomeView]:
    """Settle every unknown change, then bring each voucher where *wanted* (default:
    ``ctx.wanted``) says; what each change came to."""
    wanted = ctx.wanted if wanted is None else wanted
    with logs.phase("lifecycle") as counts:
        settled = await settle_changes(ctx)
        outcomes: list[ChangeOutcomeView] = []
        for one in wanted:
            if ctx.stopping:
                break
            outcomes += await _converge(ctx, one)
        sent = sum(1 for o in outcomes if o.outcome == "done")
        counts.update(settled=settled, changes=len(outcomes), done=sent)
    return outcomes
