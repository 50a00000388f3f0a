"""The "what next" lines under a command's result, with the exact command to type.

Each suggested command repeats the ``--state-dir`` the user gave, so following a hint
never reaches another ledger.
"""

from __future__ import annotations

from pathlib import Path

from runner.errors import ExitCode
from runner.summaries import (
    AdoptSummary,
    ChangeOutcomeView,
    ClosedView,
    LedgerSummary,
    LifecycleSummary,
    LifecycleView,
    PlanPreview,
    RunSummary,
    StatusReport,
    VoucherDrift,
)

__all__ = [
    "adopt_hints",
    "change_line",
    "closed_line",
    "command_line",
    "drift_line",
    "ledger_line",
    "lifecycle_hints",
    "lifecycle_lines",
    "plan_lines",
    "review_hints",
    "run_hints",
    "status_hints",
    "verify_hints",
]


def command_line(command: str, campaign_file: Path, state_dir: Path | None, *extra: str) -> str:
    """A command line to suggest, with the --state-dir the user gave (if any)."""
    parts = ["runner", command, str(campaign_file)]
    if state_dir is not None:
        parts += ["--state-dir", str(state_dir)]
    return " ".join([*parts, *extra])


def change_line(change: ChangeOutcomeView) -> str:
    """One end-date move or finish and how it ended, e.g. ``extend ten-off …: done (…)``."""
    what = (
        f"finish {change.voucher_key}"
        if change.action == "finish"
        else f"end date of {change.voucher_key}: {change.from_end_date} → {change.to_end_date}"
    )
    return f"{what}: {change.outcome} ({change.message})"


def closed_line(closed: ClosedView) -> str:
    """A voucher closed to grants and what it costs."""
    why = "is finished" if closed.why == "finished" else f"expired on {closed.since}"
    line = f"voucher {closed.voucher_key} {why}: {closed.grants_not_sent} grant(s) not sent"
    if closed.why == "expired":
        line += " (move its end_date to today or later, then `runner retry-failed`)"
    return line


def _with_paths(text: str, campaign_file: Path, state_dir: Path | None) -> str:
    """A hint's ``CAMPAIGN.yaml`` as the command the user types (with their --state-dir)."""
    where = str(campaign_file) + (f" --state-dir {state_dir}" if state_dir is not None else "")
    return text.replace("CAMPAIGN.yaml", where)


def _settle_hint(change: ChangeOutcomeView, campaign_file: Path, state_dir: Path | None) -> str:
    """How a person settles a change in review: the command that says what they want."""
    extra = ["--voucher", change.voucher_key]
    if change.action == "end_date":
        extra += ["--end-date", str(change.to_end_date)]
    command = "finish" if change.action == "finish" else "extend"
    line = command_line(command, campaign_file, state_dir, *extra)
    return (
        f"{change.voucher_key}: check it in the vendor's console, then `{line}` (or another "
        "date): it reads the voucher back and sends only what is missing"
    )


def drift_line(drift: VoucherDrift, campaign_file: Path, state_dir: Path | None) -> str:
    """One remote setting that differs from the ledger, and what to do."""
    return (
        f"{drift.voucher_key} (remote {drift.voucher_id}) {drift.setting}: the vendor has "
        f"{drift.remote}, the ledger {drift.ledger}. "
        + _with_paths(drift.hint, campaign_file, state_dir)
    )


def run_hints(
    code: ExitCode, summary: RunSummary, campaign_file: Path, state_dir: Path | None
) -> list[str]:
    """Where the results are, and what to do after a run that did not end OK."""
    where = Path(str(summary.ledger_file)).parent
    hints = [f"results: {where / 'results.csv'} (and results.xlsx)"]
    hints += [change_line(c) for c in summary.changes or []]
    hints += [
        _settle_hint(c, campaign_file, state_dir)
        for c in summary.changes or []
        if c.outcome == "review"
    ]
    hints += [closed_line(c) for c in summary.not_sent or []]
    drift = summary.verify.drift if summary.verify is not None else []
    hints += [drift_line(d, campaign_file, state_dir) for d in drift]
    kept = summary.no_longer_planned.get("done")
    if kept:
        hints.append(
            f"{kept} grant(s) made earlier are no longer in the campaign: kept, never "
            "revoked (results.csv: planned = no longer)"
        )
    if code == ExitCode.FAILED:
        retry = command_line("retry-failed", campaign_file, state_dir)
        hints.append(f"failures: {where / 'failures.csv'}; fix the cause, then `{retry}`")
    if code == ExitCode.REVIEW:
        hints.append(
            f"some outcomes need a person: `{command_line('review', campaign_file, state_dir)}` "
            "shows them with their evidence and records your decision"
        )
    hints += [f"last error: {error}" for error in summary.last_errors]
    if code in (ExitCode.ENVIRONMENT, ExitCode.INTERRUPTED):
        resume = command_line("run", campaign_file, state_dir, "--yes")
        hints.append(f"resume with `{resume}`: it continues where it stopped")
    return hints


def lifecycle_lines(view: LifecycleView) -> list[str]:
    """End dates and finishes: what a run changes, what the file is behind on, which
    vouchers are closed to grants, which changes are not settled yet."""
    lines = [f"`runner run` would {step.text}" for step in view.changes]
    lines += [f"the campaign file is behind: {b.message}" for b in view.behind]
    lines += [closed_line(c) for c in view.closed]
    lines += [
        f"change {p.change_id} is {p.state}: the next run or command reads the voucher back "
        "before sending anything"
        for p in view.pending
    ]
    return lines


def status_hints(report: StatusReport, campaign_file: Path, state_dir: Path | None) -> list[str]:
    """What a rerun would do, what waits for retry-failed or a person, what run refuses."""
    rerun = report.rerun_would
    hints = [f"`runner run` would grant {rerun.grant}; {rerun.already_done} already done"]
    hints += lifecycle_lines(report.lifecycle)
    if not report.remote_checked:
        verify = command_line("verify", campaign_file, state_dir)
        hints.append(
            f"end dates and finishes are the ledger's (not checked remotely): `{verify}` reads "
            "each voucher back"
        )
    if rerun.failed_for_retry_failed:
        hints.append(f"{rerun.failed_for_retry_failed} failed: `runner retry-failed` tries again")
    if rerun.review:
        hints.append(
            f"{rerun.review} need review: a person decides with "
            f"`{command_line('review', campaign_file, state_dir)}`"
        )
    return hints + [f"`runner run` would refuse: {p.message}" for p in report.run_refuses]


def verify_hints(summary: RunSummary, campaign_file: Path, state_dir: Path | None) -> list[str]:
    """What to do about each remote voucher setting that differs from the ledger."""
    drift = summary.verify.drift if summary.verify is not None else []
    return [drift_line(d, campaign_file, state_dir) for d in drift]


def lifecycle_hints(
    summary: LifecycleSummary, campaign_file: Path, state_dir: Path | None
) -> list[str]:
    """Each change and how it ended, what the campaign file is behind on, what next."""
    hints = [change_line(c) for c in summary.changes or []]
    hints += [f"the campaign file is behind: {b.message}" for b in summary.behind]
    outcomes = {c.outcome for c in summary.changes or []}
    if "refused" in outcomes:
        hints.append("refused changes: fix the cause, then run the same command again")
    if outcomes & {"unknown", "not_sent", "stopped"}:
        rerun = command_line("run", campaign_file, state_dir, "--yes")
        hints.append(
            f"not settled: run the same command again (`{rerun}` completes it too); it reads "
            "the voucher back before sending anything"
        )
    hints += [
        _settle_hint(c, campaign_file, state_dir)
        for c in summary.changes or []
        if c.outcome == "review"
    ]
    return hints


def adopt_hints(summary: AdoptSummary, campaign_file: Path, state_dir: Path | None) -> list[str]:
    """What was adopted, what was not found, and the run that sends the rest."""
    hints = [
        f"adopted {a.voucher_key} = remote voucher {a.remote_id}: {a.grants_found} "
        f"grant(s) found, {a.grants_to_send} still to send"
        + (f", {a.extra_remote} remote instance(s) beyond the plan" if a.extra_remote else "")
        for a in summary.adopted
    ]
    hints += [
        f"{key}: not found on the tenant; `runner run` creates it" for key in summary.not_found
    ]
    run = command_line("run", campaign_file, state_dir, "--yes")
    return [*hints, f"next: `{run}` sends only what is missing"]


def review_hints(in_review: int, campaign_file: Path, state_dir: Path | None) -> list[str]:
    """How to record a decision, when something is in review."""
    if not in_review:
        return []
    return [
        f"decide with `{command_line('review', campaign_file, state_dir)} --resolve "
        "ID=done|resend|failed --note TEXT` (a voucher that exists: KEY=created:REMOTE_ID)"
    ]


def ledger_line(result: LedgerSummary | PlanPreview) -> str:
    """``ledger: PATH (tenant …)``: which ledger a command used, and whose it is."""
    tenant, path = result.tenant, str(result.ledger_file)
    if tenant is not None:
        whose = f"tenant: openid {tenant.openid} at {tenant.base_url}"
    elif not Path(path).exists():
        whose = "none yet: the first run creates it"
    else:
        whose = "not bound to a tenant yet"
    return f"ledger: {path} ({whose})"


def plan_lines(
    preview: PlanPreview, directory: Path, campaign_file: Path, state_dir: Path | None
) -> list[str]:
    """Where the preview files are, which ledger was read, and the command that launches
    exactly this plan."""
    launch = command_line("run", campaign_file, state_dir, "--plan-hash", preview.plan_hash)
    return [
        f"preview files: {directory}/ (plan.xlsx, plan.csv, plan.parquet, preview.md, "
        "preview.json)",
        ledger_line(preview),
        f"launch exactly this plan: {launch}",
    ]
