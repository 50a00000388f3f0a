"""The "what next" lines under a command's result, with the exact command to type.

Each suggested command repeats the ``--state-dir`` the user gave, so following a hint
never reaches another ledger.
"""

from __future__ import annotations

from pathlib import Path

from runner.errors import ExitCode
from runner.summaries import AdoptSummary, LedgerSummary, PlanPreview, RunSummary, StatusReport

__all__ = [
    "adopt_hints",
    "command_line",
    "ledger_line",
    "plan_lines",
    "review_hints",
    "run_hints",
    "status_hints",
]


def command_line(command: str, campaign_file: Path, state_dir: Path | None, *extra: str) -> str:
    """A command line to suggest, with the --state-dir the user gave (if any)."""
    parts = ["runner", command, str(campaign_file)]
    if state_dir is not None:
        parts += ["--state-dir", str(state_dir)]
    return " ".join([*parts, *extra])


def run_hints(
    code: ExitCode, summary: RunSummary, campaign_file: Path, state_dir: Path | None
) -> list[str]:
    """Where the results are, and what to do after a run that did not end OK."""
    where = Path(str(summary.ledger_file)).parent
    hints = [f"results: {where / 'results.csv'} (and results.xlsx)"]
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


def status_hints(report: StatusReport, campaign_file: Path, state_dir: Path | None) -> list[str]:
    """What a rerun would do, what waits for retry-failed or a person, what run refuses."""
    rerun = report.rerun_would
    hints = [f"`runner run` would grant {rerun.grant}; {rerun.already_done} already done"]
    if rerun.failed_for_retry_failed:
        hints.append(f"{rerun.failed_for_retry_failed} failed: `runner retry-failed` tries again")
    if rerun.review:
        hints.append(
            f"{rerun.review} need review: a person decides with "
            f"`{command_line('review', campaign_file, state_dir)}`"
        )
    return hints + [f"`runner run` would refuse: {p.message}" for p in report.run_refuses]


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
        f"preview files: {directory}/ (plan.parquet, plan.xlsx, preview.md, preview.json)",
        ledger_line(preview),
        f"launch exactly this plan: {launch}",
    ]
