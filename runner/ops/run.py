"""``runner run`` and ``runner retry-failed``: plan, confirm, create, move end dates and
finish (the campaign file's lifecycle), grant, verify, record.

The run is recorded in the ledger's ``runs`` table however it ends
(:mod:`runner.ops._recording`); the result files are written from the ledger at the
end, even when the run was stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import structlog

from runner import logs
from runner.api import Credentials, VoucherClient
from runner.campaign import Campaign
from runner.clock import beijing_today
from runner.errors import ConfirmationRequired, ExitCode, PlanChanged
from runner.execute import RunContext, RunOutcome, closed_by_ledger, execute
from runner.ledger import LEDGER_FILE, Ledger, campaign_dir
from runner.ops._recording import RunResult, finish, record_stop
from runner.ops._session import (
    RunOptions,
    credentials_for,
    job_states,
    ledger_summary,
    open_ledger,
    run_context,
    tenant_of,
)
from runner.outputs.preview import SUMMARY_FILE, approved_summary_file, read_preview
from runner.outputs.results import write_ledger_outputs
from runner.plan import (
    Closed,
    Judgement,
    LedgerView,
    Plan,
    check_against_ledger,
    check_never_ran,
    done_by_voucher,
    load_plan,
)
from runner.statedir import resolve_state_dir
from runner.summaries import ClosedView, Recovered, RunSummary, VerifySummary

__all__ = ["run_campaign", "run_summary"]

log = structlog.get_logger(__name__)


def _check_plan_hash(plan: Plan, wanted: str | None, directory: Path) -> None:
    if wanted is None or wanted == plan.plan_hash:
        return
    approved = directory / approved_summary_file(wanted)
    changed = _what_changed(plan, approved if approved.is_file() else directory / SUMMARY_FILE)
    raise PlanChanged(
        f"the campaign no longer matches the approved preview (approved {wanted[:12]}…, "
        f"now {plan.plan_hash[:12]}…){': ' + changed if changed else ''}"
    )


def _what_changed(plan: Plan, preview_file: Path) -> str:
    old = read_preview(preview_file)
    if old is None:
        return ""
    notes: list[str] = []
    old_vouchers = {v.key: v for v in old.vouchers}
    for v in plan.vouchers:
        before = old_vouchers.pop(v.key, None)
        if before is None:
            notes.append(f"voucher {v.key} is new")
        elif before.fingerprint != v.fingerprint:
            notes.append(f"voucher {v.key} changed")
    notes += [f"voucher {key} was removed" for key in old_vouchers]
    if old.grants.total != plan.jobs.height:
        notes.append(f"grants {old.grants.total} → {plan.jobs.height}")
    return "; ".join(notes)


def _confirm(options: RunOptions, campaign: Campaign, plan: Plan, view: LedgerView) -> None:
    if options.yes:
        return
    if options.confirm is None:
        raise ConfirmationRequired("no terminal to ask for confirmation, and no --yes")
    if not options.confirm(campaign, plan, view):
        raise ConfirmationRequired(
            "launch not confirmed; nothing was sent", hint="Run it again when you are ready."
        )


async def _execute(ctx: RunContext, client: VoucherClient, bars: bool | None) -> RunOutcome:
    async with client:
        return await execute(ctx, bars=bars)


def _exit_code(ledger: Ledger, outcome: RunOutcome) -> ExitCode:
    """Interrupted, then review or differences, failures, work left undone, else OK.

    The run's end-date moves and finishes count like grants: a refused one is a failure,
    one in review needs a person, one unknown or not sent is work left undone.
    """
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    states = job_states(ledger)
    voucher_states = {v.state for v in ledger.vouchers()}
    changes = {c.outcome for c in outcome.changes}
    if outcome.verify is not None and not outcome.verify.ok:
        return ExitCode.REVIEW
    if states.get("review") or "review" in voucher_states or "review" in changes:
        return ExitCode.REVIEW
    if states.get("failed") or "failed" in voucher_states or "refused" in changes:
        return ExitCode.FAILED
    undone = changes & {"unknown", "not_sent", "stopped"}
    if states.keys() - {"done"} or voucher_states - {"created"} or undone:
        # retries ran out without an answer: the API is unreachable or keeps pushing back
        return ExitCode.ENVIRONMENT
    return ExitCode.OK


def run_summary(
    ledger: Ledger, outcome: RunOutcome | None = None, *, kind: str = "run"
) -> RunSummary:
    """The ledger's counts with what the run did: calls, verify result, pushbacks."""
    fields = ledger_summary(ledger).ledger_fields()
    if outcome is None:
        return RunSummary.model_validate({**fields, "kind": kind})
    report = outcome.verify
    verify = (
        None
        if report is None
        else VerifySummary(
            ok=report.ok,
            vouchers=report.vouchers,
            remote_instances=report.remote_instances,
            ledger_grants=report.ledger_grants,
            mismatches=list(report.mismatches),
            drift=list(report.drift),
        )
    )
    return RunSummary.model_validate(
        {
            **fields,
            "kind": kind,
            "calls": outcome.calls,
            "interrupted": outcome.interrupted,
            "verify": verify,
            "changes": list(outcome.changes),
            "not_sent": list(outcome.not_sent),
        }
    )


def run_campaign(campaign_path: Path, options: RunOptions) -> RunResult:
    """Plan, confirm, create, grant, reconcile, verify and write the result files.

    Every line logged meanwhile carries ``campaign``, and ``run_id`` once the run is
    recorded (:func:`runner.logs.scope`).
    """
    started = time.monotonic()
    # end dates are judged against the ledger (a created voucher may have expired)
    campaign, plan = load_plan(campaign_path, env=options.env, past_end_ok=True)
    with logs.scope(campaign=campaign.campaign):
        with logs.phase("plan", since=started) as counts:
            counts.update(vouchers=len(plan.vouchers), grants=plan.jobs.height)
        return _run_campaign(campaign, plan, options)


def _run_campaign(campaign: Campaign, plan: Plan, options: RunOptions) -> RunResult:
    state_dir = resolve_state_dir(campaign, options.state_dir)
    directory = campaign_dir(state_dir, campaign.campaign)
    _check_plan_hash(plan, options.plan_hash, directory)
    if not (directory / LEDGER_FILE).exists():
        check_never_ran(campaign)  # before a ledger file is made
    creds = credentials_for(campaign, options.env)
    logs.use_redactor(creds.redactor)
    tenant = tenant_of(creds)
    command = "retry-failed" if options.retry_failed else "run"
    with open_ledger(
        state_dir, campaign.campaign, command=command, redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant)  # before anything is asked or sent
        judgement = check_against_ledger(ledger, campaign, plan)
        view = LedgerView(
            ledger.path,
            judgement.diff,
            ledger.tenant(),
            judgement.lifecycle,
            done_by_voucher(ledger),
        )
        _confirm(options, campaign, plan, view)
        ledger.bind_tenant(tenant)
        run_id = ledger.start_run(command, plan.plan_hash)
        logs.bind(run_id=run_id)  # until the campaign's scope ends
        return _run_and_record(ledger, run_id, campaign, plan, creds, options, directory, judgement)


def _sync(ledger: Ledger, plan: Plan, judgement: Judgement) -> None:
    """Make the ledger follow the plan, unless it already does: the ledger last synced this
    very plan (same hash: the same voucher fingerprints and job ids) and the comparison just
    made under the campaign lock found nothing to change. A rerun of a finished campaign
    then compares its rows once, not twice, and writes nothing (a 200,000-job plan: ~3 s)."""
    diff = judgement.diff
    changes = (
        diff.new,
        diff.returning,
        diff.no_longer_planned,
        diff.done_not_in_plan,
        diff.new_vouchers,
        diff.updated_vouchers,
        diff.voucher_conflicts,
    )
    if ledger.plan_hash() == plan.plan_hash and not any(changes):
        log.info("the ledger already follows this plan: nothing to sync")
        return
    ledger.sync_plan(plan.plan_hash, *judgement.rows)


def _requeue_failed(ledger: Ledger) -> list[ClosedView]:
    """failed → planned for every failed job and voucher, except the jobs of a voucher the
    ledger knows finished or expired: those stay failed (and are returned, per voucher)."""
    today = beijing_today()
    closed: dict[str, Closed] = {}
    for key, life in ledger.lifecycles().items():
        reason = closed_by_ledger(life, today)
        if reason is not None:
            closed[key] = reason
    kept: Counter[str] = Counter()
    retry: list[str] = []
    for job in ledger.jobs("failed"):
        if job.voucher_key in closed:
            kept[job.voucher_key] += 1
        else:
            retry.append(job.job_id)
    ledger.retry_failed_many(retry)
    for v in ledger.vouchers():
        if v.state == "failed":
            ledger.retry_failed_voucher(v.voucher_key)
    return [_closed_view(closed[key], n) for key, n in kept.items()]


def _closed_view(closed: Closed, not_sent: int) -> ClosedView:
    return ClosedView(
        voucher_key=closed.voucher_key, why=closed.why, since=closed.since, grants_not_sent=not_sent
    )


def _run_and_record(
    ledger: Ledger,
    run_id: str,
    campaign: Campaign,
    plan: Plan,
    creds: Credentials,
    options: RunOptions,
    directory: Path,
    judgement: Judgement,
) -> RunResult:
    ctx = run_context(campaign, creds, ledger, options)
    throttle, client = ctx.throttle, ctx.client
    ctx.wanted = judgement.lifecycle.wanted
    ctx.retry_failed = options.retry_failed
    kept: list[ClosedView] = []
    kind = "retry-failed" if options.retry_failed else "run"
    outcome: RunOutcome | None = None

    def write_files() -> None:
        with logs.phase("results") as counts:
            _files, written = write_ledger_outputs(directory, ledger, plan.audiences)
            counts.update(jobs=written, unchanged=written is None)

    def summary_now() -> RunSummary:
        recovered = ledger.recovered  # rows a crashed run left sending, settled by this one
        summary = run_summary(ledger, outcome, kind=kind)
        return summary.model_copy(
            update={
                "pushbacks": throttle.pushbacks,
                "final_rate": round(throttle.rate, 3),
                "recovered_after_crash": Recovered(
                    vouchers=len(recovered.vouchers), jobs=len(recovered.jobs)
                )
                if recovered
                else None,
                "not_sent": kept + list(summary.not_sent or []),
            }
        )

    files_tried = False
    try:
        _sync(ledger, plan, judgement)
        if options.retry_failed:
            kept = _requeue_failed(ledger)
        outcome = asyncio.run(_execute(ctx, client, options.bars))
        exit_code = _exit_code(ledger, outcome)
        files_tried = True
        write_files()
        summary = summary_now()
        finish(ledger, run_id, exit_code, summary)
    except BaseException as exc:  # record how the run ended, then let the CLI tell
        record_stop(
            ledger,
            run_id,
            exc,
            summarize=summary_now,
            write_files=None if files_tried else write_files,
        )
        raise
    log.info("run finished", exit_code=int(exit_code))
    return RunResult(exit_code, summary)
