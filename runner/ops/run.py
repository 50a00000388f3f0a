"""The campaign commands as use cases: run, retry-failed, status, verify.

Each function wires the pipeline's arrows (plan → ledger → execute → outputs) and
returns an :class:`~runner.errors.ExitCode`; the CLI only parses options and calls them.

A run records how it ended in the ledger's ``runs`` table whatever stops it: its exit
code when it ends by itself; ``INTERRUPTED`` for Ctrl-C; a :class:`RunnerError`'s own
code; and for any other exception (a bug) ``FAILED`` with ``crash`` in the summary,
after which the exception goes on to the CLI. Writing the result files or the run row
never hides the exception that stopped the run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

from runner import logs
from runner.api import DEFAULT_BASE_URL, ENV_BASE_URL, Credentials, VoucherClient
from runner.campaign import Campaign
from runner.errors import (
    ConfirmationRequired,
    ExitCode,
    MissingCredentials,
    PlanChanged,
    RunnerError,
    StateDirUnusable,
    UsageError,
)
from runner.execute import AdaptiveThrottle, ExecSettings, RunContext, RunOutcome, execute
from runner.execute import verify as verify_remote
from runner.ledger import (
    LEDGER_FILE,
    JobRecord,
    Ledger,
    SyncReport,
    Tenant,
    VoucherRecord,
    campaign_dir,
)
from runner.outputs import write_outputs
from runner.plan import (
    LedgerRows,
    Plan,
    approved_summary_file,
    check_against_ledger,
    judge_against_ledger,
    load_plan,
)
from runner.statedir import resolve_state_dir

__all__ = [
    "Confirm",
    "RunOptions",
    "RunResult",
    "run_campaign",
    "status",
    "verify_campaign",
]

log = structlog.get_logger(__name__)

#: Shows the preview and asks; returns True to launch. None: no terminal to ask on.
Confirm = Callable[[Campaign, Plan, SyncReport], bool]


@dataclass(frozen=True)
class RunOptions:
    """How ``run`` and ``retry-failed`` behave beyond the campaign file."""

    state_dir: Path | None = None  # None: the campaign's state_dir, else state/ beside it
    yes: bool = False
    plan_hash: str | None = None
    confirm: Confirm | None = None
    env: Mapping[str, str] | None = None
    transport: httpx.AsyncBaseTransport | None = None
    settings: ExecSettings = field(default_factory=ExecSettings)
    bars: bool | None = None
    retry_failed: bool = False


def credentials_for(campaign: Campaign, env: Mapping[str, str] | None) -> Credentials:
    """The campaign's ``api`` settings, with WAIQIN_* variables filling the gaps."""
    if campaign.unset_credentials:
        names = sorted(set(campaign.unset_credentials.values()))
        raise MissingCredentials(
            f"the campaign's api credentials refer to unset environment variable(s): "
            f"{', '.join(names)}",
            where=campaign.location("api." + next(iter(campaign.unset_credentials))),
            hint="Set them (" + " ".join(f"export {n}=..." for n in names) + ") and run again.",
        )
    source = dict(os.environ if env is None else env)
    api = campaign.api
    if api.openid:
        source["WAIQIN_OPENID"] = api.openid
    if api.appkey is not None:
        source["WAIQIN_APPKEY"] = api.appkey.get_secret_value()
    base_url = api.base_url if "base_url" in api.model_fields_set else None
    if base_url is None and not source.get(ENV_BASE_URL):
        base_url = DEFAULT_BASE_URL
    return Credentials.from_env(source, base_url=base_url)


def _check_plan_hash(plan: Plan, wanted: str | None, directory: Path) -> None:
    if wanted is None or wanted == plan.plan_hash:
        return
    approved = directory / approved_summary_file(wanted)
    changed = _what_changed(plan, approved if approved.is_file() else directory / "preview.json")
    raise PlanChanged(
        f"the campaign no longer matches the approved preview (approved {wanted[:12]}…, "
        f"now {plan.plan_hash[:12]}…){': ' + changed if changed else ''}"
    )


def _what_changed(plan: Plan, preview: Path) -> str:
    try:
        old = json.loads(preview.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    notes: list[str] = []
    old_vouchers = {v["key"]: v for v in old.get("vouchers", [])}
    for v in plan.vouchers:
        before = old_vouchers.pop(v.key, None)
        if before is None:
            notes.append(f"voucher {v.key} is new")
        elif before.get("fingerprint") not in (None, v.fingerprint):
            notes.append(f"voucher {v.key} changed")
    notes += [f"voucher {key} was removed" for key in old_vouchers]
    old_total = old.get("grants", {}).get("total")
    if old_total is not None and old_total != plan.jobs.height:
        notes.append(f"grants {old_total} → {plan.jobs.height}")
    return "; ".join(notes)


def _confirm(options: RunOptions, campaign: Campaign, plan: Plan, diff: SyncReport) -> None:
    if options.yes:
        return
    if options.confirm is None:
        raise ConfirmationRequired("no terminal to ask for confirmation, and no --yes")
    if not options.confirm(campaign, plan, diff):
        raise ConfirmationRequired(
            "launch not confirmed; nothing was sent", hint="Run it again when you are ready."
        )


def _client(
    campaign: Campaign, creds: Credentials, throttle: AdaptiveThrottle, options: RunOptions
) -> VoucherClient:
    api = campaign.api
    return VoucherClient(
        creds,
        timeout_s=float(api.timeout_s),
        transient_messages=api.transient_messages,
        throttle=throttle,
        transport=options.transport,
        max_read_attempts=api.max_attempts,
    )


def _settings(campaign: Campaign, options: RunOptions) -> ExecSettings:
    settings, timeout_s = options.settings, float(campaign.api.timeout_s)
    # a request the vendor applies after our timeout must be visible before we look
    settle_s = campaign.api.settle_s or max(settings.settle_s, timeout_s)
    return dataclasses.replace(
        settings,
        max_attempts=campaign.api.max_attempts,
        settle_s=float(settle_s),
        drain_s=min(settings.drain_s, timeout_s + 5),
    )


async def _execute(ctx: RunContext, client: VoucherClient, bars: bool | None) -> RunOutcome:
    async with client:
        return await execute(ctx, bars=bars)


def _job_states(ledger: Ledger, *, active: bool | None = True) -> dict[str, int]:
    """How many jobs are in each state, over all vouchers."""
    totals: dict[str, int] = {}
    for per_voucher in ledger.counts(active=active).values():
        for state, n in per_voucher.items():
            totals[state] = totals.get(state, 0) + n
    return totals


def _exit_code(ledger: Ledger, outcome: RunOutcome) -> ExitCode:
    """Interrupted, then review or differences, failures, work left undone, else OK."""
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    states = _job_states(ledger)
    voucher_states = {v.state for v in ledger.vouchers()}
    if outcome.verify is not None and not outcome.verify.ok:
        return ExitCode.REVIEW
    if states.get("review") or "review" in voucher_states:
        return ExitCode.REVIEW
    if states.get("failed") or "failed" in voucher_states:
        return ExitCode.FAILED
    if states.keys() - {"done"} or voucher_states - {"created"}:
        # retries ran out without an answer: the API is unreachable or keeps pushing back
        return ExitCode.ENVIRONMENT
    return ExitCode.OK


@dataclass(frozen=True)
class RunResult:
    """The exit code and what to print about the run."""

    exit_code: ExitCode
    summary: dict[str, object]


@contextmanager
def _state_dir_errors(directory: Path) -> Iterator[None]:
    """An OSError opening the ledger folder becomes :class:`StateDirUnusable`."""
    try:
        yield
    except OSError as exc:
        raise StateDirUnusable.from_os_error(
            exc, "the state directory", exc.filename or directory
        ) from exc


def open_ledger(state_dir: Path, campaign: str, **how: Any) -> Ledger:
    """:meth:`Ledger.open` (*how*: its keyword arguments), with a folder that cannot be
    made or written (read-only, a file in the way, disk full) reported as
    :class:`StateDirUnusable` (exit 4)."""
    with _state_dir_errors(campaign_dir(state_dir, campaign)):
        return Ledger.open(state_dir, campaign, **how)


def ended_by(exc: BaseException) -> tuple[ExitCode, dict[str, object]]:
    """The exit code a run stopped by *exc* records, and what its summary adds.

    Ctrl-C is an interruption; a :class:`RunnerError` ends with its own code; anything
    else is a bug: a crash, recorded as ``FAILED`` with the exception's type and place.
    """
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, {"interrupted": True}
    if isinstance(exc, RunnerError):
        return exc.exit_code, {"stopped_by": {"error": type(exc).__name__, "message": exc.message}}
    crash: dict[str, object] = {"error": type(exc).__name__, "message": str(exc)}
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        crash["at"] = f"{frames[-1].filename}:{frames[-1].lineno}"
    return ExitCode.FAILED, {"crash": crash}


def record_stop(
    ledger: Ledger,
    run_id: str,
    exc: BaseException,
    *,
    summarize: Callable[[], dict[str, object]],
    write_files: Callable[[], object] | None = None,
) -> ExitCode:
    """Record the end of a run that *exc* stopped; never raises, the caller re-raises *exc*.

    Writes the result files first (when *write_files* is given), then finishes the run
    row with :func:`ended_by`'s code. A failure in either is logged, never raised, so
    it cannot hide *exc*; the ledger keeps every transition already recorded.
    """
    code, ended = ended_by(exc)
    if write_files is not None:
        try:
            write_files()
        except Exception as err:
            log.error("could not write the result files", error=str(err), run_id=run_id)
    try:
        summary = summarize()
    except Exception as err:
        log.error("could not summarize the run", error=repr(err), run_id=run_id)
        summary = {"campaign": ledger.campaign}
    try:
        ledger.finish_run(run_id, code, summary | ended)
    except Exception as err:
        log.error("could not record the end of the run", error=str(err), run_id=run_id)
    log.warning("run stopped", exit_code=int(code), run_id=run_id, **ended)
    return code


def run_campaign(campaign_path: Path, options: RunOptions) -> RunResult:
    """Plan, confirm, create, grant, reconcile, verify and write the result files."""
    campaign, plan = load_plan(campaign_path, env=options.env)
    state_dir = resolve_state_dir(campaign, options.state_dir)
    directory = campaign_dir(state_dir, campaign.campaign)
    _check_plan_hash(plan, options.plan_hash, directory)
    creds = credentials_for(campaign, options.env)
    logs.use_redactor(creds.redactor)
    tenant = tenant_of(creds)
    command = "retry-failed" if options.retry_failed else "run"
    with open_ledger(
        state_dir, campaign.campaign, command=command, redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant)  # before anything is asked or sent
        rows, diff = check_against_ledger(ledger, campaign, plan)
        _confirm(options, campaign, plan, diff)
        ledger.bind_tenant(tenant)
        run_id = ledger.start_run(command, plan.plan_hash)
        return _run_and_record(ledger, run_id, campaign, plan, creds, options, directory, rows)


def tenant_of(creds: Credentials) -> Tenant:
    """The tenant these credentials reach."""
    return Tenant.of(creds.base_url, creds.openid)


def _requeue_failed(ledger: Ledger) -> None:
    ledger.retry_failed_many([j.job_id for j in ledger.jobs("failed")])
    for v in ledger.vouchers():
        if v.state == "failed":
            ledger.retry_failed_voucher(v.voucher_key)


def _run_and_record(
    ledger: Ledger,
    run_id: str,
    campaign: Campaign,
    plan: Plan,
    creds: Credentials,
    options: RunOptions,
    directory: Path,
    rows: LedgerRows,
) -> RunResult:
    api = campaign.api
    throttle = AdaptiveThrottle(float(api.rate), api.concurrency)
    client = _client(campaign, creds, throttle, options)
    ctx = RunContext(ledger, client, throttle, _settings(campaign, options))
    ctx.locate = campaign.location
    outcome: RunOutcome | None = None

    def write_files() -> None:
        jobs, vouchers = ledger.jobs(active=None), ledger.vouchers(active=None)
        write_outputs(directory, jobs, vouchers, plan.audiences)

    def summary_now() -> dict[str, object]:
        summary = summarize_ledger(ledger, outcome, throttle)
        if ledger.recovered:  # rows a crashed run left sending, settled by this one
            summary["recovered_after_crash"] = {
                "vouchers": len(ledger.recovered.vouchers),
                "jobs": len(ledger.recovered.jobs),
            }
        return summary

    files_tried = False
    try:
        ledger.sync_plan(plan.plan_hash, *rows)
        if options.retry_failed:
            _requeue_failed(ledger)
        outcome = asyncio.run(_execute(ctx, client, options.bars))
        exit_code = _exit_code(ledger, outcome)
        files_tried = True
        write_files()
        summary = summary_now()
        ledger.finish_run(run_id, exit_code, summary)
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


def _last_errors(ledger: Ledger, most: int = 3) -> list[str]:
    """The distinct last errors of work not done, most recent first (for the summary)."""
    undone = ledger.jobs(("planned", "unknown", "failed", "review"))
    errors = [v.last_error for v in ledger.vouchers() if v.state != "created"]
    errors += [j.last_error for j in sorted(undone, key=lambda j: j.updated_at, reverse=True)]
    return list(dict.fromkeys(e for e in errors if e))[:most]


def summarize_ledger(
    ledger: Ledger, outcome: RunOutcome | None = None, throttle: AdaptiveThrottle | None = None
) -> dict[str, object]:
    """Counts per voucher and state, with the remote ids, verify result and calls made."""
    counts = ledger.counts(active=None)
    vouchers = [
        {
            "key": v.voucher_key,
            "state": v.state,
            "remote_id": v.remote_id,
            "active": v.active,
            "jobs": dict(counts.get(v.voucher_key, {})),
            "last_error": v.last_error if v.state != "created" else None,
        }
        for v in ledger.vouchers(active=None)
    ]
    totals = _job_states(ledger, active=None)
    dropped = _job_states(ledger, active=False)
    tenant = ledger.tenant()
    summary: dict[str, object] = {
        "campaign": ledger.campaign,
        "ledger_file": str(ledger.path),
        "tenant": tenant.as_dict() if tenant is not None else None,
        "vouchers": vouchers,
        "jobs": totals,
        "no_longer_planned": dropped,
        "last_errors": _last_errors(ledger),
    }
    if outcome is not None:
        summary["calls"] = outcome.calls
        summary["interrupted"] = outcome.interrupted
        if outcome.verify is not None:
            summary["verify"] = {
                "ok": outcome.verify.ok,
                "vouchers": outcome.verify.vouchers,
                "remote_instances": outcome.verify.remote_instances,
                "ledger_grants": outcome.verify.ledger_grants,
                "mismatches": [m.as_dict() for m in outcome.verify.mismatches],
            }
    if throttle is not None:
        summary["pushbacks"] = throttle.pushbacks
        summary["final_rate"] = round(throttle.rate, 3)
    return summary


def _never_ran(campaign: str, plan: Plan) -> dict[str, object]:
    planned = plan.jobs.height
    return {
        "campaign": campaign,
        "vouchers": [],
        "jobs": {},
        "no_longer_planned": {},
        "last_run": None,
        "rerun_would": {
            "grant": planned,
            "already_done": 0,
            "new_jobs": planned,
            "failed_for_retry_failed": 0,
            "review": 0,
            "no_longer_planned": 0,
            "voucher_conflicts": [],
        },
    }


def _rerun_would(
    jobs: list[JobRecord], vouchers: list[VoucherRecord], diff: SyncReport
) -> dict[str, object]:
    """What `run` would send (and what only `retry-failed` would)."""
    blocked = {v.voucher_key for v in vouchers if v.state in ("failed", "review")}
    pending = [j for j in jobs if j.state in ("planned", "sending", "unknown")]
    return {
        "grant": sum(1 for j in pending if j.voucher_key not in blocked) + len(diff.new),
        "already_done": diff.already_done,
        "new_jobs": len(diff.new),
        "failed_for_retry_failed": sum(1 for j in jobs if j.state == "failed")
        + sum(1 for v in vouchers if v.state == "failed"),
        "review": sum(1 for j in jobs if j.state == "review")
        + sum(1 for v in vouchers if v.state == "review"),
        "no_longer_planned": len(diff.no_longer_planned),
        "voucher_conflicts": [c.voucher_key for c in diff.voucher_conflicts],
    }


def status(
    campaign_path: Path, state_dir: Path | None, env: Mapping[str, str] | None = None
) -> dict[str, object]:
    """The ledger's view of a campaign, read-only, with what a rerun would do."""
    campaign, plan = load_plan(campaign_path, env=env, past_end_ok=True)
    state_dir = resolve_state_dir(campaign, state_dir)
    path = campaign_dir(state_dir, campaign.campaign) / LEDGER_FILE
    if not path.exists():
        never: dict[str, object] = {"ledger_file": str(path), "tenant": None, "run_refuses": []}
        return _never_ran(campaign.campaign, plan) | never
    with open_ledger(state_dir, campaign.campaign, read_only=True) as ledger:
        summary = summarize_ledger(ledger)
        _rows, diff, refused = judge_against_ledger(ledger, campaign, plan)
        last = ledger.last_run()
        ledger_jobs, ledger_vouchers = ledger.jobs(), ledger.vouchers()
    summary["last_run"] = (
        None
        if last is None
        else {
            "run_id": last.run_id,
            "command": last.command,
            "started_at": last.started_at,
            "finished_at": last.finished_at,
            "exit_code": last.exit_code,
        }
    )
    summary["rerun_would"] = _rerun_would(ledger_jobs, ledger_vouchers, diff)
    summary["run_refuses"] = [p.as_dict() for p in refused]  # what `plan` would say too
    return summary


def verify_campaign(campaign_path: Path, options: RunOptions) -> RunResult:
    """The verify step alone: remote granted instances against the ledger."""
    campaign, _plan = load_plan(campaign_path, env=options.env, past_end_ok=True)
    state_dir = resolve_state_dir(campaign, options.state_dir)
    if not (campaign_dir(state_dir, campaign.campaign) / LEDGER_FILE).exists():
        raise UsageError(
            f"campaign {campaign.campaign!r} never ran in {state_dir}: nothing to verify",
            hint="Run it first (`runner run`), or pass the --state-dir it ran with.",
        )
    creds = credentials_for(campaign, options.env)
    logs.use_redactor(creds.redactor)
    with open_ledger(
        state_dir, campaign.campaign, read_only=True, redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant_of(creds))
        ids = {v.voucher_key: v.remote_id for v in ledger.vouchers(active=None) if v.remote_id}
        throttle = AdaptiveThrottle(float(campaign.api.rate), campaign.api.concurrency)
        client = _client(campaign, creds, throttle, options)
        ctx = RunContext(ledger, client, throttle, _settings(campaign, options))

        async def go() -> RunOutcome:
            async with client:
                report = await verify_remote(ctx, ids)
            return RunOutcome(ids, report, False, dict(ctx.calls))

        outcome = asyncio.run(go())
        summary = summarize_ledger(ledger, outcome)
    code = ExitCode.OK if outcome.verify is not None and outcome.verify.ok else ExitCode.REVIEW
    return RunResult(code, summary)
