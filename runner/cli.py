"""The ``runner`` command line: wires the pipeline's steps together.

This module is the single error boundary: :func:`main` turns every
:class:`~runner.errors.RunnerError` into a message on stderr and its ``exit_code``.
Exit codes (:class:`~runner.errors.ExitCode`): 0 ok, 1 some work failed, 2 invalid input
or usage, 3 needs human review, 4 environment (lock held, API unreachable, credentials
missing, state directory or result file not writable, damaged ledger), 130 interrupted.
Any other exception is a bug: its traceback is shown and the exit code is 1.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import structlog

from runner import __version__, api, logs
from runner.errors import ExitCode, RunnerError, UsageError
from runner.ops import RunOptions
from runner.outputs import console, hints
from runner.summaries import (
    OUTPUTS,
    AdoptSummary,
    ErrorReport,
    ProblemView,
    output_schema,
    to_json,
)

if TYPE_CHECKING:
    from runner.campaign import Campaign
    from runner.ops.adopt import Adoption
    from runner.ops.lifecycle import CommandChange
    from runner.plan import LedgerView, Plan

__all__ = ["cli", "main"]

_chosen_format: list[logs.LogFormat] = ["auto"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "console", "json"]),
    default="auto",
    show_default=True,
    help="Log lines for people (console) or machines (json); auto = json when not a terminal.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.pass_context
def cli(ctx: click.Context, log_format: logs.LogFormat, log_level: str) -> None:
    """Plan, run and verify voucher campaigns against the 勤策/外勤365 voucher OpenAPI."""
    _chosen_format[0] = log_format
    logs.configure(log_format, level=log_level)
    ctx.obj = {"log_format": log_format}


def _stamped(exc: BaseException) -> dict[str, Any]:
    """An error report's ``timestamp`` and the ``campaign`` and ``run_id`` it happened in."""
    bound = logs.context_of(exc)
    return {
        "timestamp": logs.timestamp(),
        "campaign": bound.get("campaign"),
        "run_id": bound.get("run_id"),
    }


def _render_error(err: RunnerError, json_mode: bool) -> None:
    redactor = logs.current_redactor()  # no secret is meant to be in an error: in case
    if json_mode:
        report = ErrorReport(
            **_stamped(err),
            error=type(err).__name__,
            exit_code=int(err.exit_code),
            message=err.message,
            problems=[ProblemView.model_validate(p.as_dict()) for p in err.problems()],
        )
        click.echo(redactor.text(to_json(report)), err=True)
        return

    def say(text: str) -> None:
        click.echo(redactor.text(text), err=True)

    click.secho(f"error: {redactor.text(err.message)}", fg="red", err=True)
    problems = err.problems()
    if len(problems) == 1 and problems[0].message == err.message:
        where, hint = problems[0].where, problems[0].hint
        if str(where):
            say(f"  at {where}")
        if hint:
            say(f"  → {hint}")
        return
    for problem in problems:
        say("  - " + str(problem).replace("\n", "\n    "))


def _usage_error(exc: click.ClickException) -> UsageError:
    """click's own usage error (a missing argument, an unknown option) as ours."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "runner"
    return UsageError(exc.format_message(), hint=f"See `{command} --help` for the usage.")


def _render_crash(exc: Exception, json_mode: bool) -> None:
    """A bug: say so, with the traceback to report (what the ledger recorded stays).

    The traceback and the exception's text go through the logging redactor: a bug's
    message may quote anything, the appkey included.
    """
    redactor = logs.current_redactor()
    trace = redactor.text("".join(traceback.format_exception(exc)))
    text = redactor.text(str(exc))
    hint = (
        "This is a bug in campaign-runner: please report it with the traceback. What the "
        "ledger recorded stays recorded; a rerun resumes where this one stopped."
    )
    if json_mode:
        report = ErrorReport(
            **_stamped(exc),
            error=type(exc).__name__,
            exit_code=int(ExitCode.FAILED),
            message=f"the runner crashed: {text}",
            hint=hint,
            traceback=trace,
        )
        click.echo(redactor.text(to_json(report)), err=True)
        return
    click.echo(trace, err=True, nl=False)
    click.secho(f"error: the runner crashed: {type(exc).__name__}: {text}", fg="red", err=True)
    click.echo(f"  → {hint}", err=True)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with the right code; the one place errors become messages.

    A :class:`RunnerError` ends with its ``exit_code``; click's own usage errors with
    ``INVALID``; Ctrl-C with ``INTERRUPTED``; any other exception is a bug: ``FAILED``
    with its traceback.
    """
    code: int
    try:
        result = cli.main(args=argv, prog_name="runner", standalone_mode=False)
        code = result if isinstance(result, int) else ExitCode.OK
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        code = ExitCode.INTERRUPTED
    except click.exceptions.Exit as exc:  # --help, --version
        code = exc.exit_code
    except click.ClickException as exc:
        if logs.use_json(_chosen_format[0]):  # a scheduler reads one JSON error, as for any
            _render_error(_usage_error(exc), json_mode=True)
        else:
            exc.show()
        code = ExitCode.INVALID
    except RunnerError as err:
        _render_error(err, logs.use_json(_chosen_format[0]))
        code = err.exit_code
    except Exception as exc:
        _render_crash(exc, logs.use_json(_chosen_format[0]))
        code = ExitCode.FAILED
    sys.exit(int(code))


# Commands are registered below; each lives in the module that owns its concept and is
# imported here only to be wired in.


@cli.command("schema")
@click.option(
    "--output",
    "output",
    type=click.Choice(sorted(OUTPUTS)),
    help="Print the JSON Schema of this command's --json output instead.",
)
def schema_command(output: str | None) -> None:
    """Print the campaign file's JSON Schema (for editors via yaml-language-server), or
    with --output NAME the schema of a command's --json output (for schedulers)."""
    from runner.campaign import json_schema

    schema = json_schema() if output is None else output_schema(output)
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))


_insecure_opt = click.option(
    api.INSECURE_HTTP_FLAG,
    "insecure_http",
    is_flag=True,
    help="Accept a plain http:// OpenAPI address to another machine (unencrypted: only for "
    f"a test server on a network you trust) [env {api.ENV_INSECURE_HTTP}=1]. http://127.0.0.1 "
    "and http://localhost (the sandbox) need no flag; https is always verified.",
)


@cli.command("api")
@click.argument("operation", type=click.Choice(api.OPERATIONS))
@click.argument("payload", metavar="[JSON]", default="{}")
@click.option("--base-url", help="OpenAPI address; overrides WAIQIN_BASE_URL.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=15.0,
    show_default=True,
    help="Seconds to wait for the answer.",
)
@_insecure_opt
def api_command(
    operation: str, payload: str, base_url: str | None, timeout_s: float, insecure_http: bool
) -> int:
    """Make ONE signed call to OPERATION with the JSON body and print its response_data.

    Credentials come from WAIQIN_OPENID and WAIQIN_APPKEY (or WAIQIN_APPKEY_FILE). Nothing
    is retried and paginated reads return just the page asked for.
    """
    body = api.parse_payload(payload)
    credentials = api.Credentials.resolve(base_url=base_url, insecure_http=insecure_http)
    logs.use_redactor(credentials.redactor)
    data = asyncio.run(api.call_once(operation, body, credentials=credentials, timeout_s=timeout_s))
    click.echo(api.format_response(data))
    return ExitCode.OK


@cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8787, show_default=True, help="0 picks a free port.")
@click.option("--openid", envvar="WAIQIN_OPENID", help="Expected openid [env WAIQIN_OPENID].")
@click.option(
    "--appkey", envvar="WAIQIN_APPKEY", help="Expected signing appkey [env WAIQIN_APPKEY]."
)
@click.option("--rate", type=float, help="Requests per second over all operations; none = off.")
@click.option(
    "--rate-mode",
    type=click.Choice(["http429", "refusal"]),
    default="http429",
    show_default=True,
    help="Push back with HTTP 429, or with a 200 'too frequent' refusal.",
)
@click.option(
    "--faults", default="", metavar="SPEC", help="e.g. lost_response=0.05,latency=20ms~10ms"
)
@click.option("--customers", type=click.Path(dir_okay=False), help="Customer CSV/XLSX file.")
@click.option("--generate", type=click.IntRange(min=0), help="Made-up customers [default 50].")
@click.option("--state", type=click.Path(dir_okay=False), help="JSON state file, kept on restart.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for ids and faults.")
@click.option("--timestamp-window", type=float, help="Refuse timestamps this many seconds off.")
@click.option(
    "--ignore-paging",
    is_flag=True,
    help="Listings ignore page_number/page_length and answer every item at once.",
)
def sandbox_command(**options: Any) -> int:
    """Serve the voucher API simulator in the foreground until Ctrl-C."""
    from runner.sandbox import serve

    return serve(**options, echo=click.echo)


# --- running a campaign -------------------------------------------------------------------

_campaign_arg = click.argument(
    "campaign_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
_state_dir_opt = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the ledger and result files live (one folder per campaign) "
    "[default: the campaign's state_dir, else state/ next to the campaign file].",
)
_json_opt = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask(campaign: Campaign, plan: Plan, view: LedgerView) -> bool:
    from runner.ops.plan import summarize
    from runner.outputs.preview import print_preview

    print_preview(summarize(campaign, plan, rate=float(campaign.api.rate), ledger=view))
    return click.confirm("Launch this campaign now?", default=False)


def _launch(
    campaign_file: Path,
    state_dir: Path | None,
    yes: bool,
    plan_hash: str | None,
    as_json: bool,
    retry: bool,
    insecure_http: bool,
) -> int:
    from runner.ops.run import run_campaign

    options = RunOptions(
        state_dir=state_dir,
        yes=yes,
        plan_hash=plan_hash,
        confirm=_ask if _interactive() else None,
        retry_failed=retry,
        insecure_http=insecure_http,
    )
    result = run_campaign(campaign_file, options)
    shown = hints.run_hints(result.exit_code, result.summary, campaign_file, state_dir)
    console.print_summary(result.summary, as_json=as_json, hints=shown)
    return result.exit_code


@cli.command("run")
@_campaign_arg
@_state_dir_opt
@click.option("--yes", is_flag=True, help="Launch without asking (needed without a terminal).")
@click.option("--plan-hash", help="Refuse to run unless the plan still has this hash.")
@_json_opt
@_insecure_opt
def run_command(
    campaign_file: Path,
    state_dir: Path | None,
    yes: bool,
    plan_hash: str | None,
    as_json: bool,
    insecure_http: bool,
) -> int:
    """Create the vouchers and grant them exactly once; safe to rerun at any time.

    Exit codes: 0 all done and verified, 1 some grants failed (see failures.csv),
    2 invalid input, 3 needs review, 4 environment (lock, API unreachable), 130 interrupted.
    """
    return _launch(campaign_file, state_dir, yes, plan_hash, as_json, False, insecure_http)


@cli.command("retry-failed")
@_campaign_arg
@_state_dir_opt
@click.option("--yes", is_flag=True, help="Launch without asking (needed without a terminal).")
@_json_opt
@_insecure_opt
def retry_failed_command(
    campaign_file: Path, state_dir: Path | None, yes: bool, as_json: bool, insecure_http: bool
) -> int:
    """Try again the grants (and vouchers) that failed for good, once the cause is fixed."""
    return _launch(campaign_file, state_dir, yes, None, as_json, True, insecure_http)


@cli.command("status")
@_campaign_arg
@_state_dir_opt
@_json_opt
def status_command(campaign_file: Path, state_dir: Path | None, as_json: bool) -> int:
    """Show per voucher and state what the ledger holds, and what a rerun would do."""
    from runner.ops.status import status

    report = status(campaign_file, state_dir)
    shown = hints.status_hints(report, campaign_file, state_dir)
    console.print_summary(report, as_json=as_json, hints=shown)
    return ExitCode.OK


@cli.command("verify")
@_campaign_arg
@_state_dir_opt
@_json_opt
@_insecure_opt
def verify_command(
    campaign_file: Path, state_dir: Path | None, as_json: bool, insecure_http: bool
) -> int:
    """Compare the remote granted instances with the ledger, per customer (read-only)."""
    from runner.ops.verify import verify_campaign

    options = RunOptions(state_dir=state_dir, insecure_http=insecure_http)
    result = verify_campaign(campaign_file, options)
    shown = hints.verify_hints(result.summary, campaign_file, state_dir)
    console.print_summary(result.summary, as_json=as_json, hints=shown)
    return result.exit_code


@cli.command("report")
@_campaign_arg
@_state_dir_opt
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the report files go [default: STATE_DIR/<campaign>/report/].",
)
@click.option(
    "--format",
    "formats",
    default="xlsx,html,csv",
    show_default=True,
    help="Which files to write: any of xlsx, html, csv, separated by commas.",
)
@click.option(
    "--by",
    multiple=True,
    metavar="COL",
    help="Cut the figures by this audience column; repeatable "
    "[default: every mapped column but the customer key, name and quantity].",
)
@_json_opt
@_insecure_opt
def report_command(
    campaign_file: Path,
    state_dir: Path | None,
    out: Path | None,
    formats: str,
    by: tuple[str, ...],
    as_json: bool,
    insecure_http: bool,
) -> int:
    """Write the redemption report: granted, used, expired, orders and discount per
    voucher, audience and audience column, and per day (report.xlsx, report.html, CSV).

    Reads every instance of the campaign's vouchers; sends nothing. Exit codes: 0 written,
    2 the campaign never ran (or a bad --by/--format), 4 environment (credentials, API
    unreachable, a file that cannot be written).
    """
    from runner.ops.report import ReportOptions, parse_formats, report_campaign
    from runner.report import print_report

    options = ReportOptions(
        run=RunOptions(state_dir=state_dir, insecure_http=insecure_http),
        out=out,
        formats=parse_formats(formats),
        by=by,
    )
    print_report(report_campaign(campaign_file, options), as_json=as_json)
    return ExitCode.OK


@cli.command("plan")
@_campaign_arg
@_state_dir_opt
@_json_opt
def plan_command(campaign_file: Path, state_dir: Path | None, as_json: bool) -> int:
    """Build the job plan and preview it; sends nothing and needs no credentials.

    Writes plan.xlsx, plan.csv, plan.parquet, preview.md and preview.json into
    STATE_DIR/<campaign>/.
    Exit codes: 0 the plan is valid, 2 invalid input or a plan `run` would refuse
    (every problem is listed).
    """
    from runner.ops.plan import preview_campaign
    from runner.outputs.preview import print_preview

    result = preview_campaign(campaign_file, state_dir)
    if as_json:
        console.print_json(result.preview)
        return ExitCode.OK
    print_preview(result.preview)
    for line in hints.plan_lines(result.preview, result.directory, campaign_file, state_dir):
        click.echo(line)
    return ExitCode.OK


@cli.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Where the demo writes its campaign, spreadsheet, ledger and results.",
)
@click.option("--customers", default=3000, show_default=True, help="Customers in the sandbox.")
@click.option("--audience", default=300, show_default=True, help="Customers in the campaign.")
@click.option("--seed", default=7, show_default=True, help="Seed for customers and faults.")
def demo_command(directory: Path, customers: int, audience: int, seed: int) -> int:
    """Run a sample campaign twice against a built-in sandbox with faults switched on."""
    from runner.ops.demo import DemoSettings, run_demo

    logs.configure(_chosen_format[0], level="error")  # the story is told in tables
    settings = DemoSettings(directory=directory, customers=customers, audience=audience, seed=seed)
    return run_demo(settings)


# --- the drop folder -----------------------------------------------------------------------


@cli.command("watch")
@click.argument("inbox", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--once", is_flag=True, help="One pass (and the runs it starts), then exit: for cron."
)
@click.option(
    "--approval",
    type=click.Choice(["manual", "auto"]),
    default="manual",
    show_default=True,
    help="manual: a drop runs after an APPROVED file; auto: valid drops run at once.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the ledgers live (one per campaign id) [default: INBOX/.state].",
)
@click.option(
    "--settle",
    "settle_s",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Seconds a drop's files must stay unchanged before they are read.",
)
@click.option("--poll", is_flag=True, help="Poll for changes (network shares send no events).")
@click.option(
    "--notify",
    "notify_urls",
    multiple=True,
    metavar="URL",
    help="Webhook told about every drop (besides each campaign's own notify:); repeatable.",
)
@click.option(
    "--notify-format",
    type=click.Choice(["json", "wecom", "dingtalk"]),
    default="json",
    show_default=True,
    help="Message format of the --notify webhooks (WeCom / DingTalk group robots).",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Drops of different campaigns run at the same time (one rate budget per tenant).",
)
@_insecure_opt
def watch_command(
    inbox: Path,
    once: bool,
    approval: str,
    state_dir: Path | None,
    settle_s: float,
    poll: bool,
    notify_urls: tuple[str, ...],
    notify_format: str,
    parallel: int,
    insecure_http: bool,
) -> int:
    """Watch INBOX: check each dropped campaign folder, wait for its APPROVED file, run it.

    Drops move through INBOX/awaiting-approval, running, done, failed, needs-review and
    rejected; each holds a STATUS.md (中文/English) and status.json. With --once the exit
    code is the most urgent outcome of the pass: 0 nothing to report, 1 a drop failed,
    2 a drop was rejected, 3 a drop needs review, 4 environment (the drop stays and the
    next pass retries).
    """
    from runner.inbox import Inbox, WatchLoop, WatchOptions, watch

    place = Inbox.at(inbox, state_dir)
    targets = tuple(_notify_target(url, notify_format) for url in notify_urls)
    options = WatchOptions(
        approval=approval,
        settle_s=settle_s,
        parallel=parallel,
        notify=targets,
        env=api.allowing_insecure_http(None) if insecure_http else None,
    )
    structlog.get_logger("runner.watch").info(
        "watching", inbox=str(place.root), ledgers=str(place.state_dir), approval=approval
    )
    return watch(place, options, once=once, loop=WatchLoop(poll=poll))


def _notify_target(url: str, notify_format: str) -> Any:
    import pydantic

    from runner.campaign import NotifyTarget
    from runner.errors import UsageError
    from runner.notify import redact_url

    try:
        return NotifyTarget.model_validate({"url": url, "format": notify_format})
    except pydantic.ValidationError:
        raise UsageError(
            f"--notify {redact_url(url)} is not a webhook URL",
            hint="Give an http:// or https:// address, e.g. a WeCom or DingTalk robot's URL.",
        ) from None


@cli.command("approve")
@click.argument("drop", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--by", help="Who approves [default: your user name].")
def approve_command(drop: Path, by: str | None) -> int:
    """Approve DROP (a folder in INBOX/awaiting-approval): the plan it previewed runs."""
    from runner.inbox import approve

    approval = approve(drop, by=by)
    click.echo(f"approved plan {approval.plan_hash} by {approval.by}: {drop / 'APPROVED'}")
    return ExitCode.OK


# --- review: a person decides what no machine could -------------------------------------


@cli.command("review")
@_campaign_arg
@_state_dir_opt
@click.option(
    "--resolve",
    "resolutions",
    multiple=True,
    metavar="ID=DECISION",
    help="Record a decision: ID=done, ID=resend or ID=failed; a voucher that exists: "
    "KEY=created:REMOTE_ID. Repeat for several; needs --note.",
)
@click.option("--note", help="Why you decided so (required with --resolve); kept in the ledger.")
@_json_opt
def review_command(
    campaign_file: Path,
    state_dir: Path | None,
    resolutions: tuple[str, ...],
    note: str | None,
    as_json: bool,
) -> int:
    """List the jobs and vouchers in review with their evidence, or record decisions.

    Without --resolve: exit 0 when nothing is in review, 3 when something is.
    With --resolve and --note: every decision is checked first (unknown ids and ids not
    in review refuse the whole batch, exit 2), then each is recorded as one event, exit 0.
    """
    from runner.errors import UsageError
    from runner.ops.review import list_review, record_decisions

    if resolutions:
        recorded = record_decisions(campaign_file, state_dir, resolutions, note)
        console.print_recorded(recorded, as_json=as_json)
        return ExitCode.OK
    if note is not None:
        raise UsageError(
            "--note is recorded only with a decision",
            hint="Add --resolve ID=done|resend|failed, or drop --note to list.",
        )
    listing = list_review(campaign_file, state_dir)
    shown = hints.review_hints(listing.in_review, campaign_file, state_dir)
    console.print_review(listing, as_json=as_json, hints=shown)
    return ExitCode.REVIEW if listing.items else ExitCode.OK


# --- adopt: take in what the tenant already holds ------------------------------------------


def _ask_adopt(found: Sequence[Adoption]) -> bool:
    for item in found:
        click.echo(f"  {item.voucher_key}: remote voucher {item.remote_id}")
    return click.confirm("Take these vouchers and the grants they hold into the ledger?")


@cli.command("adopt")
@_campaign_arg
@_state_dir_opt
@click.option(
    "--voucher",
    "choices",
    multiple=True,
    metavar="KEY=REMOTE_ID",
    help="Adopt this remote voucher for the campaign's voucher KEY (when several match).",
)
@click.option("--yes", is_flag=True, help="Adopt without asking (needed without a terminal).")
@_json_opt
@_insecure_opt
def adopt_command(
    campaign_file: Path,
    state_dir: Path | None,
    choices: tuple[str, ...],
    yes: bool,
    as_json: bool,
    insecure_http: bool,
) -> int:
    """Take the campaign's vouchers that already exist on the tenant, and the grants they
    hold, into the ledger; then `runner run` sends only what is missing.

    Use it after a lost or deleted state directory, or when `run` stopped with exit 3
    because a voucher it never created exists. Sends nothing but reads.
    Exit codes: 0 adopted (or nothing to adopt), 2 invalid input, 3 several remote
    vouchers match (choose with --voucher), 4 environment (another tenant's ledger, ...).
    """
    from runner.ops.adopt import AdoptOptions, adopt_campaign, parse_choices

    options = AdoptOptions(
        run=RunOptions(state_dir=state_dir, yes=yes, insecure_http=insecure_http),
        choices=parse_choices(choices),
        confirm=_ask_adopt if _interactive() else None,
    )
    result = adopt_campaign(campaign_file, options)
    summary = result.summary
    shown = (
        hints.adopt_hints(summary, campaign_file, state_dir)
        if isinstance(summary, AdoptSummary)
        else []
    )
    console.print_summary(summary, as_json=as_json, hints=shown)
    return result.exit_code


# --- finish and extend: a voucher's lifecycle, now -------------------------------------------


def _ask_changes(changes: Sequence[CommandChange]) -> bool:
    for change in changes:
        click.echo(f"  {change.text()}")
    return click.confirm("Apply these changes now?", default=False)


_voucher_opt = click.option(
    "--voucher",
    "vouchers",
    multiple=True,
    metavar="KEY",
    help="Only this voucher (repeatable) [default: every voucher of the campaign created].",
)


def _lifecycle(
    command: str,
    campaign_file: Path,
    state_dir: Path | None,
    vouchers: tuple[str, ...],
    yes: bool,
    as_json: bool,
    insecure_http: bool,
    end_date: Any = None,
) -> int:
    from runner.ops.lifecycle import LifecycleOptions, extend_vouchers, finish_vouchers

    options = LifecycleOptions(
        run=RunOptions(state_dir=state_dir, yes=yes, insecure_http=insecure_http),
        vouchers=vouchers,
        end_date=None if end_date is None else end_date.date(),
        confirm=_ask_changes if _interactive() else None,
    )
    apply = finish_vouchers if command == "finish" else extend_vouchers
    result = apply(campaign_file, options)
    shown = hints.lifecycle_hints(result.summary, campaign_file, state_dir)
    console.print_summary(result.summary, as_json=as_json, hints=shown)
    return result.exit_code


@cli.command("finish")
@_campaign_arg
@_state_dir_opt
@_voucher_opt
@click.option("--yes", is_flag=True, help="Apply without asking (needed without a terminal).")
@_json_opt
@_insecure_opt
def finish_command(
    campaign_file: Path,
    state_dir: Path | None,
    vouchers: tuple[str, ...],
    yes: bool,
    as_json: bool,
    insecure_http: bool,
) -> int:
    """Stop the campaign's vouchers now (finishVoucher): they take no more grants.

    Recorded in the ledger like every write (exactly once, settled by reading the voucher
    back when an answer is lost); cannot be undone. Add `finished: true` to the vouchers
    in the campaign file afterwards (`plan` reports the file as behind until then).
    Exit codes: 0 finished (or finished already), 1 refused, 2 invalid or not confirmed,
    3 needs a person, 4 environment, 130 interrupted.
    """
    return _lifecycle("finish", campaign_file, state_dir, vouchers, yes, as_json, insecure_http)


@cli.command("extend")
@_campaign_arg
@_state_dir_opt
@click.option(
    "--end-date",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The new last valid day, YYYY-MM-DD: today or later (an earlier date than the "
    "current end date shortens it).",
)
@_voucher_opt
@click.option("--yes", is_flag=True, help="Apply without asking (needed without a terminal).")
@_json_opt
@_insecure_opt
def extend_command(
    campaign_file: Path,
    state_dir: Path | None,
    end_date: Any,
    vouchers: tuple[str, ...],
    yes: bool,
    as_json: bool,
    insecure_http: bool,
) -> int:
    """Move the campaign's vouchers' end date now (modifyVoucherEndDate).

    Recorded in the ledger like every write; update end_date in the campaign file
    afterwards (`plan` reports the file as behind until then, and never reverts it).
    Exit codes: 0 moved (or ending that day already), 1 refused, 2 invalid (a date in the
    past or before the start, a finished voucher) or not confirmed, 3 needs a person,
    4 environment, 130 interrupted.
    """
    return _lifecycle(
        "extend", campaign_file, state_dir, vouchers, yes, as_json, insecure_http, end_date
    )


# --- init: a new campaign folder -------------------------------------------------------------


@cli.command("init")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to make NAME/ in.",
)
def init_command(name: str, parent: Path) -> int:
    """Make NAME/ with a commented campaign file NAME.yaml and a customer template to fill.

    NAME is the campaign id (letters, digits, '-' and '_'). The voucher's dates are set a
    week from today (Beijing time); the template's row 1 explains its columns, row 2 holds
    the headers. Exit codes: 0 made, 2 invalid name or NAME/ exists with files in it,
    4 the folder cannot be written.
    """
    import shlex

    from runner.ops.init import scaffold
    from runner.outputs.templates import HEADER_ROW, TEMPLATE_SHEET

    result = scaffold(name, parent)
    click.echo(f"created {result.folder}:")
    for path in result.paths:
        click.echo(f"  {path}")
    template = result.templates[0]
    click.echo(
        f"next: fill {template} (sheet {TEMPLATE_SHEET}, one customer per row from row "
        f"{HEADER_ROW + 1}), set the voucher's dates ({result.start_date} to "
        f"{result.end_date} for now) and amounts in {result.campaign_file}, then "
        f"`runner plan {shlex.quote(str(result.campaign_file))}`"
    )
    return ExitCode.OK
