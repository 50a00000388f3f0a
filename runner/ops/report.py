"""``runner report``: the redemption report of a campaign's vouchers, read-only.

Reads every instance of every voucher the ledger holds a remote id for (unused, used and
expired, all pages), joins them to the ledger's jobs and the audiences, computes the
figures (:mod:`runner.report`) and writes ``report.xlsx``, ``report.html`` and the
``report-*.csv`` files into ``<state>/<campaign>/report/`` (or ``--out``). Sends nothing
but reads. Exit codes: 0 written; 2 the campaign never ran there, an unknown ``--by``
column or format; 4 credentials missing or refused, API unreachable, another tenant's
ledger, a folder or file that cannot be written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner import logs
from runner.api import Credentials, VoucherUsage
from runner.campaign import Campaign
from runner.clock import beijing_stamp
from runner.errors import UsageError
from runner.ledger import JobRecord, VoucherRecord, campaign_dir
from runner.ops._session import (
    RunOptions,
    credentials_for,
    open_ledger,
    require_ledger,
    tenant_of,
    tenant_view,
    throttle_for,
    vendor_client,
)
from runner.plan import Plan, load_plan
from runner.report import (
    FORMATS,
    ReportFigures,
    compute_figures,
    instances_frame,
    jobs_frame,
    report_files,
    report_summary,
    report_tables,
    segment_columns,
    segment_labels,
    usage_frame,
    vouchers_frame,
    write_report,
)
from runner.statedir import resolve_state_dir
from runner.summaries import ReportSummary, TenantView

__all__ = ["REPORT_DIR", "ReportOptions", "parse_formats", "report_campaign"]

#: The report's folder inside the campaign's state folder (without ``--out``).
REPORT_DIR = "report"


@dataclass(frozen=True)
class ReportOptions:
    """Where the report goes, in which formats, cut by which audience columns."""

    run: RunOptions = field(default_factory=RunOptions)
    out: Path | None = None
    formats: tuple[str, ...] = FORMATS
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class _LedgerView:
    """What the report takes from the ledger."""

    campaign: str
    path: str
    tenant: TenantView | None
    vouchers: list[VoucherRecord]
    jobs: list[JobRecord]


def parse_formats(text: str) -> tuple[str, ...]:
    """``xlsx,html,csv`` (any of them, any order) as the formats to write, in file order."""
    asked = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = sorted(set(asked) - set(FORMATS))
    if unknown or not asked:
        raise UsageError(
            f"--format {text!r}: {', '.join(unknown) or 'nothing'} is not a report format",
            hint="Name one or more of xlsx, html, csv, separated by commas (e.g. html,csv).",
        )
    return tuple(f for f in FORMATS if f in asked)


def report_campaign(campaign_path: Path, options: ReportOptions) -> ReportSummary:
    """Read the usage, compute the figures, write the report files; returns the figures."""
    campaign, plan = load_plan(campaign_path, env=options.run.env, past_end_ok=True)
    with logs.scope(campaign=campaign.campaign):
        return _report(campaign, plan, options)


def _read_ledger(campaign: Campaign, state_dir: Path, creds: Credentials) -> _LedgerView:
    """The vouchers and jobs of the ledger (planned or not any more), tenant checked."""
    with open_ledger(
        state_dir, campaign.campaign, read_only=True, redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant_of(creds))
        return _LedgerView(
            campaign=campaign.campaign,
            path=str(ledger.path),
            tenant=tenant_view(ledger.tenant()),
            vouchers=ledger.vouchers(active=None),
            jobs=ledger.jobs(active=None),
        )


async def _read_usage(
    campaign: Campaign, creds: Credentials, options: RunOptions, ids: Mapping[str, str]
) -> dict[str, list[VoucherUsage]]:
    """Every instance (unused, used, expired; all pages) of each voucher, by voucher key."""
    client = vendor_client(campaign, creds, throttle_for(campaign, options.budget), options)
    async with client:
        lists = await asyncio.gather(*(client.query_voucher_used_info(i) for i in ids.values()))
    return dict(zip(ids, lists, strict=True))


def _report(campaign: Campaign, plan: Plan, options: ReportOptions) -> ReportSummary:
    """Read, compute and write the report of a loaded campaign."""
    columns = segment_columns(campaign, plan.audiences, options.by)
    state_dir = resolve_state_dir(campaign, options.run.state_dir)
    require_ledger(state_dir, campaign.campaign, "report")
    creds = credentials_for(campaign, options.run.env)
    logs.use_redactor(creds.redactor)
    ledger = _read_ledger(campaign, state_dir, creds)
    figures = _figures(campaign, plan, options.run, creds, ledger, columns)
    out = (options.out or campaign_dir(state_dir, campaign.campaign) / REPORT_DIR).resolve()
    return _written(figures, out, options.formats, ledger, segment_labels(plan.audiences, columns))


def _figures(
    campaign: Campaign,
    plan: Plan,
    options: RunOptions,
    creds: Credentials,
    ledger: _LedgerView,
    columns: tuple[str, ...],
) -> ReportFigures:
    """Every voucher's remote instances, joined to the jobs and audiences, as figures."""
    vouchers = vouchers_frame(ledger.vouchers)
    ids = dict(zip(vouchers["voucher_key"], vouchers["voucher_id"], strict=True))
    usages = asyncio.run(_read_usage(campaign, creds, options, ids))
    usage, jobs = usage_frame(usages, ids), jobs_frame(ledger.jobs)
    instances = instances_frame(usage, jobs, plan.audiences, columns)
    return compute_figures(instances, vouchers, columns)


def _written(
    figures: ReportFigures,
    out: Path,
    formats: tuple[str, ...],
    ledger: _LedgerView,
    labels: dict[str, str],
) -> ReportSummary:
    """Write the report's files into *out*; the summary that lists them."""
    tables = report_tables(figures, labels)
    summary = report_summary(
        figures,
        campaign=ledger.campaign,
        ledger_file=ledger.path,
        tenant=ledger.tenant,
        generated_at=beijing_stamp(),
        out_dir=str(out),
        files=[str(path) for path in report_files(out, formats, tables)],
    )
    write_report(out, formats, tables, summary, labels)
    return summary
