"""``runner finish`` and ``runner extend``: stop a voucher, or move its end date, now.

The urgent way to do what the campaign file says declaratively (``finished: true``, a
new ``end_date``): the change goes through the same ledgered path as a run's
(:func:`runner.execute.apply_lifecycle`: planned, sending before the request leaves,
settled by reading the voucher back when an answer is lost, resumable after a kill) and
is recorded as the voucher's wanted state. The campaign file is not edited: until it
says the same, ``plan`` and ``status`` report it *behind* (never reverting the change).

Both show what they will do and ask (``--yes`` skips it; no terminal and no ``--yes``:
exit 2). A voucher already finished (or already ending on that day) is reported and
costs no call. Exit codes: 0 done or already so, 1 refused by the vendor, 2 invalid
(unknown or never created voucher, an end date in the past or before the start, a
finished voucher's end date, no confirmation), 3 needs a person, 4 environment (the
answer stayed unknown, retries ran out, credentials, lock), 130 interrupted.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from runner import logs
from runner.campaign import Campaign, load_campaign
from runner.clock import beijing_today
from runner.errors import ConfirmationRequired, ExitCode, UsageError
from runner.execute import RunContext, apply_lifecycle
from runner.ledger import Ledger, VoucherLifecycle
from runner.ops._recording import finish, record_stop
from runner.ops._session import (
    RunOptions,
    credentials_for,
    open_ledger,
    require_ledger,
    run_context,
    tenant_of,
)
from runner.ops.plan import behind_views
from runner.ops.run import run_summary
from runner.plan import Wanted, judge_lifecycle
from runner.statedir import resolve_state_dir
from runner.summaries import ChangeOutcome, ChangeOutcomeView, LifecycleSummary

__all__ = [
    "CommandChange",
    "LifecycleOptions",
    "LifecycleResult",
    "extend_vouchers",
    "finish_vouchers",
]

Command = Literal["finish", "extend"]


@dataclass(frozen=True)
class CommandChange:
    """One voucher's change a command makes, or finds made already (``already``)."""

    voucher_key: str
    remote_id: str
    action: Literal["end_date", "finish"]
    from_end_date: str | None
    to_end_date: str | None
    already: bool
    #: Grants of the voucher not made yet: a finished voucher takes none of them.
    grants_open: int = 0

    def text(self) -> str:
        """What the confirmation shows: ``finish ten-off (remote 68…)``, ``extend …``."""
        who = f"{self.voucher_key} (remote voucher {self.remote_id})"
        if self.action == "finish":
            if self.already:
                return f"{who} is finished already: nothing to do"
            left = f"; its {self.grants_open} grant(s) not made yet will not be sent"
            return f"finish {who}" + (left if self.grants_open else "")
        if self.already:
            return f"{who} ends {self.to_end_date} already: nothing to do"
        verb = "extend" if str(self.to_end_date) > str(self.from_end_date) else "shorten"
        return f"{verb} {who}: {self.from_end_date} → {self.to_end_date}"


#: Shows the changes and asks; True to go on.
ConfirmChanges = Callable[[Sequence[CommandChange]], bool]


@dataclass(frozen=True)
class LifecycleOptions:
    """``runner finish`` / ``runner extend`` beyond the campaign file."""

    run: RunOptions = field(default_factory=RunOptions)
    vouchers: tuple[str, ...] = ()  # none: every voucher of the campaign that was created
    end_date: date | None = None  # extend: the new end date
    confirm: ConfirmChanges | None = None


@dataclass(frozen=True)
class LifecycleResult:
    """The exit code and what to print."""

    exit_code: ExitCode
    summary: LifecycleSummary


def finish_vouchers(campaign_path: Path, options: LifecycleOptions) -> LifecycleResult:
    """``runner finish``: stop the campaign's (chosen) vouchers with ``finishVoucher``."""
    return _command("finish", campaign_path, options)


def extend_vouchers(campaign_path: Path, options: LifecycleOptions) -> LifecycleResult:
    """``runner extend``: move the (chosen) vouchers' end date with ``modifyVoucherEndDate``."""
    if options.end_date is None:
        raise UsageError("runner extend needs --end-date", hint="e.g. --end-date 2027-06-30")
    return _command("extend", campaign_path, options)


def _command(command: Command, campaign_path: Path, options: LifecycleOptions) -> LifecycleResult:
    # the file's end dates may be past (an expired voucher is extended): judged below
    campaign = load_campaign(campaign_path, env=options.run.env, past_end_ok=True)
    with logs.scope(campaign=campaign.campaign):
        return _in_ledger(command, campaign, options)


def _in_ledger(command: Command, campaign: Campaign, options: LifecycleOptions) -> LifecycleResult:
    run = options.run
    state_dir = resolve_state_dir(campaign, run.state_dir)
    require_ledger(state_dir, campaign.campaign, command)
    creds = credentials_for(campaign, run.env)
    logs.use_redactor(creds.redactor)
    with open_ledger(
        state_dir, campaign.campaign, command=command, redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant_of(creds))
        changes = _changes(command, campaign, ledger, options)
        todo = [c for c in changes if not c.already]
        if todo:
            _confirm(options, changes)
        ctx = run_context(campaign, creds, ledger, run)
        run_id = ledger.start_run(command, None)
        logs.bind(run_id=run_id)
        try:
            views = asyncio.run(_apply(ctx, [_wanted(campaign, c) for c in todo]))
            summary = _summary(command, campaign, ledger, changes, views, ctx)
            code = _exit_code(summary)
            finish(ledger, run_id, code, summary)
        except BaseException as exc:
            record_stop(ledger, run_id, exc, summarize=lambda: run_summary(ledger, kind=command))
            raise
    return LifecycleResult(code, summary)


async def _apply(ctx: RunContext, wanted: Sequence[Wanted]) -> list[ChangeOutcomeView]:
    async with ctx.client:
        return await apply_lifecycle(ctx, wanted)


def _wanted(campaign: Campaign, change: CommandChange) -> Wanted:
    file_end = campaign.vouchers[change.voucher_key].end_date.isoformat()
    if change.action == "finish":
        return Wanted(change.voucher_key, None, True, "command", file_end)
    return Wanted(change.voucher_key, change.to_end_date, False, "command", file_end)


def _confirm(options: LifecycleOptions, changes: Sequence[CommandChange]) -> None:
    if options.run.yes:
        return
    if options.confirm is None:
        raise ConfirmationRequired("no terminal to ask for confirmation, and no --yes")
    if not options.confirm(changes):
        raise ConfirmationRequired("not confirmed; nothing was sent")


# --- what the command will do --------------------------------------------------------------


def _selected(
    command: Command, campaign: Campaign, ledger: Ledger, keys: Sequence[str]
) -> list[str]:
    """The vouchers named (each a created voucher of the campaign), or every created one."""
    created = {v.voucher_key for v in ledger.vouchers(active=None) if v.state == "created"}
    for key in keys:
        if key not in campaign.vouchers:
            raise UsageError(
                f"--voucher {key!r} is not a voucher of this campaign",
                hint=f"Use one of its voucher keys: {', '.join(campaign.vouchers)}.",
            )
        if key not in created:
            raise UsageError(
                f"voucher {key!r} was never created: nothing to {command}",
                where=campaign.location(f"vouchers.{key}"),
                hint="`runner run` creates it; `runner status` shows each voucher's state.",
            )
    chosen = list(dict.fromkeys(keys)) or [k for k in campaign.vouchers if k in created]
    if not chosen:
        raise UsageError(
            f"no voucher of campaign {campaign.campaign!r} was created yet: nothing to {command}",
            hint="`runner status` shows each voucher's state.",
        )
    return chosen


def _changes(
    command: Command, campaign: Campaign, ledger: Ledger, options: LifecycleOptions
) -> list[CommandChange]:
    keys = _selected(command, campaign, ledger, options.vouchers)
    lives = ledger.lifecycles()
    open_grants = Counter(j.voucher_key for j in ledger.jobs(("planned", "unknown", "sending")))
    if command == "finish":
        return [_finish(lives[key], ledger, open_grants[key]) for key in keys]
    end = _checked_end(options.end_date)
    return [_extend(campaign, lives[key], ledger, end) for key in keys]


def _finish(life: VoucherLifecycle, ledger: Ledger, grants_open: int) -> CommandChange:
    remote_id = str(ledger.voucher(life.voucher_key).remote_id)
    return CommandChange(
        life.voucher_key, remote_id, "finish", life.end_date, None, life.finished, grants_open
    )


def _checked_end(end: date | None) -> str:
    today = beijing_today()
    if end is None:  # extend_vouchers refuses it first
        raise UsageError("runner extend needs --end-date", hint="e.g. --end-date 2027-06-30")
    if end < today:
        raise UsageError(
            f"--end-date {end} is in the past (today is {today} in Beijing)",
            hint="Give today or a later date.",
        )
    return end.isoformat()


def _extend(campaign: Campaign, life: VoucherLifecycle, ledger: Ledger, end: str) -> CommandChange:
    key = life.voucher_key
    record = ledger.voucher(key)
    start = str(record.fields.get("startDate") or "")
    if life.finished:
        raise UsageError(
            f"voucher {key!r} is finished: its end date can no longer change",
            where=campaign.location(f"vouchers.{key}"),
            hint="A finished voucher cannot be resumed; leave it out with --voucher.",
        )
    if end < start:
        raise UsageError(
            f"--end-date {end} is before voucher {key!r}'s start date {start}",
            where=campaign.location(f"vouchers.{key}.start_date"),
            hint=f"Give {start} or a later date.",
        )
    return CommandChange(
        key, str(record.remote_id), "end_date", life.end_date, end, life.end_date == end
    )


# --- what it did ---------------------------------------------------------------------------


def _already(change: CommandChange) -> ChangeOutcomeView:
    what = "finished" if change.action == "finish" else f"ending {change.to_end_date}"
    return ChangeOutcomeView(
        voucher_key=change.voucher_key,
        change_id=None,
        action=change.action,
        from_end_date=change.from_end_date,
        to_end_date=change.to_end_date,
        outcome="already",
        message=f"the ledger has it {what} already: nothing sent",
    )


def _settled(change: CommandChange) -> ChangeOutcomeView:
    """A voucher the command found done once an earlier attempt's outcome was settled."""
    return _already(change).model_copy(
        update={
            "outcome": "done",
            "message": "an earlier attempt arrived (the voucher read back so): nothing sent",
        }
    )


def _summary(
    command: Command,
    campaign: Campaign,
    ledger: Ledger,
    changes: Sequence[CommandChange],
    views: Sequence[ChangeOutcomeView],
    ctx: RunContext,
) -> LifecycleSummary:
    seen = {v.voucher_key for v in views}
    outcomes = [_already(c) for c in changes if c.already]
    outcomes += [_settled(c) for c in changes if not c.already and c.voucher_key not in seen]
    outcomes += list(views)
    states = {v.voucher_key: v.state for v in ledger.vouchers(active=None)}
    lifecycle, _problems = judge_lifecycle(campaign, states, ledger.lifecycles(), beijing_today())
    fields = run_summary(ledger, kind=command).model_dump(exclude={"kind", "schema_version"})
    return LifecycleSummary.model_validate(
        {
            **fields,
            "kind": command,
            "calls": dict(ctx.calls),
            "interrupted": ctx.stopping,
            "changes": outcomes,
            "behind": behind_views(lifecycle, campaign),
        }
    )


_EXIT: tuple[tuple[ChangeOutcome, ExitCode], ...] = (
    ("stopped", ExitCode.INTERRUPTED),
    ("review", ExitCode.REVIEW),
    ("refused", ExitCode.FAILED),
    ("unknown", ExitCode.ENVIRONMENT),
    ("not_sent", ExitCode.ENVIRONMENT),
)


def _exit_code(summary: LifecycleSummary) -> ExitCode:
    """The most urgent outcome: interrupted, review, refused, left undone; else OK."""
    found = {c.outcome for c in summary.changes or []}
    if summary.interrupted:
        return ExitCode.INTERRUPTED
    return next((code for outcome, code in _EXIT if outcome in found), ExitCode.OK)
