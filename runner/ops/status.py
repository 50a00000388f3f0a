"""``runner status``: the ledger's view of a campaign and what a rerun would do, read-only.

It needs no credentials and reads nothing remote: the end dates and finishes it shows
are the ledger's (``remote_checked`` is false); ``runner verify`` reads each voucher back
and reports what was changed in the vendor's console.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from runner import logs
from runner.campaign import Campaign
from runner.ledger import LEDGER_FILE, JobRecord, RunRecord, SyncReport, VoucherRecord, campaign_dir
from runner.ops._session import ledger_summary, open_ledger
from runner.ops.plan import lifecycle_view
from runner.plan import Closed, Plan, done_by_voucher, judge_against_ledger, load_plan
from runner.statedir import resolve_state_dir
from runner.summaries import LastRun, ProblemView, RerunWould, StatusReport

__all__ = ["status"]


def _rerun_would(
    jobs: list[JobRecord],
    vouchers: list[VoucherRecord],
    diff: SyncReport,
    closed: Collection[Closed],
) -> RerunWould:
    """What `run` would send (and what only `retry-failed` would); nothing of a voucher
    that is finished or expired."""
    blocked = {v.voucher_key for v in vouchers if v.state in ("failed", "review")}
    blocked |= {c.voucher_key for c in closed}
    pending = [j for j in jobs if j.state in ("planned", "sending", "unknown")]
    return RerunWould(
        grant=sum(1 for j in pending if j.voucher_key not in blocked) + len(diff.new),
        already_done=diff.already_done,
        new_jobs=len(diff.new),
        failed_for_retry_failed=sum(1 for j in jobs if j.state == "failed")
        + sum(1 for v in vouchers if v.state == "failed"),
        review=sum(1 for j in jobs if j.state == "review")
        + sum(1 for v in vouchers if v.state == "review"),
        no_longer_planned=len(diff.no_longer_planned),
        voucher_conflicts=[c.voucher_key for c in diff.voucher_conflicts],
    )


def _last_run(last: RunRecord | None) -> LastRun | None:
    if last is None:
        return None
    return LastRun(
        run_id=last.run_id,
        command=last.command,
        started_at=last.started_at,
        finished_at=last.finished_at,
        exit_code=last.exit_code,
    )


def _never_ran(campaign: str, planned: int, path: Path) -> StatusReport:
    return StatusReport(
        campaign=campaign,
        ledger_file=str(path),
        tenant=None,
        vouchers=[],
        jobs={},
        no_longer_planned={},
        last_errors=[],
        last_run=None,
        rerun_would=RerunWould(
            grant=planned,
            already_done=0,
            new_jobs=planned,
            failed_for_retry_failed=0,
            review=0,
            no_longer_planned=0,
            voucher_conflicts=[],
        ),
        run_refuses=[],
    )


def status(
    campaign_path: Path, state_dir: Path | None, env: Mapping[str, str] | None = None
) -> StatusReport:
    """The ledger's view of a campaign, read-only, with what a rerun would do or refuse."""
    campaign, plan = load_plan(campaign_path, env=env, past_end_ok=True)
    with logs.scope(campaign=campaign.campaign):
        return _status(campaign, plan, state_dir)


def _status(campaign: Campaign, plan: Plan, state_dir: Path | None) -> StatusReport:
    state_dir = resolve_state_dir(campaign, state_dir)
    path = campaign_dir(state_dir, campaign.campaign) / LEDGER_FILE
    if not path.exists():
        return _never_ran(campaign.campaign, plan.jobs.height, path)
    with open_ledger(state_dir, campaign.campaign, read_only=True) as ledger:
        summary = ledger_summary(ledger)
        judgement = judge_against_ledger(ledger, campaign, plan)
        last = ledger.last_run()
        ledger_jobs, ledger_vouchers = ledger.jobs(), ledger.vouchers()
        done = done_by_voucher(ledger)
    lifecycle = judgement.lifecycle
    return StatusReport(
        **summary.ledger_fields(),
        last_run=_last_run(last),
        rerun_would=_rerun_would(ledger_jobs, ledger_vouchers, judgement.diff, lifecycle.closed),
        # what `plan` would say too
        run_refuses=[ProblemView.model_validate(p.as_dict()) for p in judgement.problems],
        lifecycle=lifecycle_view(lifecycle, campaign, plan, done),
        remote_checked=False,
    )
