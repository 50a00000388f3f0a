"""``runner plan``: build the plan, compare it with the ledger, write the preview files.

:func:`summarize` turns a plan into the :class:`~runner.summaries.PlanPreview` a
campaign manager approves: vouchers with their settings and limits, grant counts,
customers, face value, estimated duration, the first jobs and, when the campaign ran
before, what the ledger says, with the end-date moves and finishes a run would make
(:func:`lifecycle_view`). :func:`preview_campaign` is the command itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from runner.campaign import Campaign, CustomerScope, DiscountRatio, Voucher
from runner.ledger import SyncReport
from runner.ops._session import tenant_view
from runner.outputs.preview import write_preview
from runner.plan import (
    JOB_COLUMNS,
    LedgerView,
    Lifecycle,
    Plan,
    PlannedVoucher,
    exposure,
    ledger_diff,
    load_plan,
)
from runner.statedir import resolve_state_dir
from runner.summaries import (
    BehindView,
    ClosedView,
    LedgerChanges,
    LifecycleStepView,
    LifecycleView,
    PendingChangeView,
    PlanPreview,
    PreviewGrants,
    PreviewVoucher,
    VoucherConflictView,
)

__all__ = [
    "FIRST_JOBS",
    "PlanResult",
    "behind_views",
    "estimated_calls",
    "lifecycle_view",
    "preview_campaign",
    "summarize",
]

FIRST_JOBS = 10


def summarize(
    campaign: Campaign,
    plan: Plan,
    *,
    rate: float,
    diff: SyncReport | None = None,
    ledger: LedgerView | None = None,
) -> PlanPreview:
    """The plan as the preview shows it (``runner plan --json``, ``preview.json``)."""
    if ledger is not None and diff is None:
        diff = ledger.diff
    by_voucher = _counts(plan.jobs, "voucher_key")
    face, unbounded = _face_value(campaign, by_voucher)
    lifecycle = ledger.lifecycle if ledger is not None else Lifecycle()
    calls = estimated_calls(plan, diff) + len(lifecycle.steps)
    budget = campaign.budget.max_face_value if campaign.budget is not None else None
    tenant = ledger.tenant if ledger is not None else None
    return PlanPreview(
        campaign=plan.campaign,
        source=str(campaign.source) if campaign.source is not None else None,
        plan_hash=plan.plan_hash,
        vouchers=[
            _voucher(campaign.vouchers[v.key], v, by_voucher.get(v.key, 0), plan.jobs)
            for v in plan.vouchers
        ],
        grants=PreviewGrants(
            total=plan.jobs.height,
            by_voucher={v.key: by_voucher.get(v.key, 0) for v in plan.vouchers},
            by_audience=_counts(plan.jobs, "audience"),
        ),
        customers=_customers(plan.jobs),
        face_value=f"{face:.2f}",
        unbounded_vouchers=unbounded,
        budget=None if budget is None else str(budget),
        calls=calls,
        rate=rate,
        estimated_seconds=round(calls / rate, 1),
        first_jobs=plan.jobs.head(FIRST_JOBS).select(JOB_COLUMNS).to_dicts(),
        warnings=list(plan.warnings),
        ledger=_ledger(diff),
        ledger_file=str(ledger.path) if ledger is not None else None,
        tenant=tenant_view(tenant),
        lifecycle=lifecycle_view(
            lifecycle, campaign, plan, ledger.done if ledger is not None else {}
        ),
    )


def behind_views(lifecycle: Lifecycle, campaign: Campaign) -> list[BehindView]:
    """What the campaign file is behind on, each located at its key and line."""
    return [
        BehindView(
            voucher_key=b.voucher_key,
            setting=b.setting,
            ledger_value=b.ledger_value,
            message=b.text(),
            where=campaign.location(f"vouchers.{b.voucher_key}.{b.setting}").as_dict(),
        )
        for b in lifecycle.behind
    ]


def lifecycle_view(
    lifecycle: Lifecycle, campaign: Campaign, plan: Plan, done: Mapping[str, int]
) -> LifecycleView:
    """The lifecycle as ``plan`` and ``status`` show it; a closed voucher's grants not
    sent are its planned grants less those ``done`` (per voucher)."""
    grants = _counts(plan.jobs, "voucher_key")
    return LifecycleView(
        changes=[
            LifecycleStepView(
                voucher_key=step.voucher_key,
                action=step.kind,
                from_end_date=step.from_end_date,
                to_end_date=step.to_end_date,
                text=step.text(),
            )
            for step in lifecycle.steps
        ],
        behind=behind_views(lifecycle, campaign),
        closed=[
            ClosedView(
                voucher_key=c.voucher_key,
                why=c.why,
                since=c.since,
                grants_not_sent=max(0, grants.get(c.voucher_key, 0) - done.get(c.voucher_key, 0)),
            )
            for c in lifecycle.closed
        ],
        pending=[
            PendingChangeView(
                change_id=c.change_id,
                voucher_key=c.voucher_key,
                action=c.action,
                end_date=c.end_date,
                state=c.state,
                last_error=c.last_error,
            )
            for c in lifecycle.pending
        ],
    )


def estimated_calls(plan: Plan, diff: SyncReport | None = None) -> int:
    """API calls a run makes: a create and a verifying read per voucher, plus the grants.

    When the ledger knows the campaign, only grants that are not done yet count.
    """
    grants = plan.jobs.height if diff is None else diff.still_to_do
    return 2 * len(plan.vouchers) + grants


def _counts(jobs: pl.DataFrame, column: str) -> dict[str, int]:
    counted = jobs.group_by(column).agg(pl.len().alias("n")).sort(column)
    return {str(key): int(n) for key, n in counted.iter_rows()}


def _customers(jobs: pl.DataFrame) -> int:
    return jobs.select("key_kind", "customer_key").unique().height


def _face_value(campaign: Campaign, grants: dict[str, int]) -> tuple[Decimal, list[str]]:
    total = Decimal(0)
    unbounded: list[str] = []
    for key, voucher in campaign.vouchers.items():
        value = exposure(voucher, grants.get(key, 0))
        if value is None:
            unbounded.append(key)
        else:
            total += value
    return total, unbounded


def _voucher(
    voucher: Voucher, planned: PlannedVoucher, grants: int, jobs: pl.DataFrame
) -> PreviewVoucher:
    value = exposure(voucher, grants)
    own = jobs.filter(pl.col("voucher_key") == planned.key)
    doorsill = voucher.doorsill_amount if voucher.doorsill_type == "Y" else None
    return PreviewVoucher(
        key=planned.key,
        name=voucher.name,
        num=planned.num,
        eachCmNum=planned.each_cm_num,
        money=str(voucher.money),
        doorsill=None if doorsill is None else str(doorsill),
        discount=_discount(voucher),
        start_date=voucher.start_date.isoformat(),
        end_date=voucher.end_date.isoformat(),
        grant_type=voucher.grant_type,
        pay_type=voucher.pay_type,
        scope=_scope(voucher),
        products=voucher.products.model_dump(exclude_none=True),
        grants=grants,
        customers=_customers(own),
        face_value=None if value is None else f"{value:.2f}",
        fingerprint=planned.fingerprint,
    )


def _discount(voucher: Voucher) -> dict[str, str | None]:
    discount = voucher.discount
    if isinstance(discount, DiscountRatio):
        cap = discount.max_amount
        return {
            "type": "ZKBL",
            "percent": str(discount.percent),
            "max_amount": None if cap is None else str(cap),
        }
    return {"type": "GDMZ"}


def _scope(voucher: Voucher) -> str | dict[str, list[str]]:
    customers = voucher.customers
    if isinstance(customers, CustomerScope):
        listed = customers.model_dump()
        return {name: [str(v) for v in values] for name, values in listed.items() if values}
    return "specific"


def _ledger(diff: SyncReport | None) -> LedgerChanges | None:
    if diff is None:
        return None
    return LedgerChanges(
        already_done=diff.already_done,
        still_to_do=diff.still_to_do,
        new=len(diff.new),
        no_longer_planned=len(diff.no_longer_planned),
        done_not_in_plan=len(diff.done_not_in_plan),
        voucher_conflicts=[
            VoucherConflictView(voucher_key=c.voucher_key, state=c.state)
            for c in diff.voucher_conflicts
        ],
    )


@dataclass(frozen=True)
class PlanResult:
    """What ``runner plan`` produced: the preview and the folder its files went to."""

    preview: PlanPreview
    directory: Path


def preview_campaign(
    campaign_path: Path,
    state_dir: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    today: date | None = None,
) -> PlanResult:
    """``runner plan``: build the plan, compare it with the ledger, write the preview files.

    Needs no credentials and no network; the ledger (if the campaign ran before) is only
    read. Raises what :func:`runner.plan.check_against_ledger` raises, so ``plan``
    refuses what ``run`` would.
    """
    campaign, plan = load_plan(campaign_path, env=env, today=today, past_end_ok=True)
    directory = resolve_state_dir(campaign, state_dir)
    view = ledger_diff(directory, campaign, plan, today=today)
    preview = summarize(campaign, plan, rate=float(campaign.api.rate), ledger=view)
    return PlanResult(preview, write_preview(directory, plan, preview))
