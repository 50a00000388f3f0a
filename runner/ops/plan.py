"""The preview a campaign manager approves: a summary dict and the files of ``runner plan``.

:func:`summarize` returns the JSON shape documented in the architecture ("Conventions"):
vouchers with their settings and limits, grant counts, customers, face value, estimated
duration, the first jobs and, when the campaign ran before, what the ledger says.
:func:`write_preview` writes ``plan.parquet``, ``plan.xlsx`` and ``preview.md``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter

from runner.campaign import Campaign, CustomerScope, DiscountRatio, Voucher
from runner.ledger import SyncReport
from runner.outputs import make_directory, write_atomically
from runner.plan._build import load_plan
from runner.plan._checks import exposure
from runner.plan._ledger import LedgerView, ledger_diff
from runner.plan._model import JOB_COLUMNS, Plan, PlannedVoucher
from runner.plan._render import markdown
from runner.statedir import resolve_state_dir

__all__ = [
    "FIRST_JOBS",
    "PARQUET_FILE",
    "PREVIEW_FILE",
    "SUMMARY_FILE",
    "XLSX_FILE",
    "estimated_calls",
    "preview_campaign",
    "summarize",
    "write_preview",
]

FIRST_JOBS = 10
PARQUET_FILE = "plan.parquet"
XLSX_FILE = "plan.xlsx"
PREVIEW_FILE = "preview.md"
SUMMARY_FILE = "preview.json"


def summarize(
    campaign: Campaign,
    plan: Plan,
    *,
    rate: float,
    diff: SyncReport | None = None,
    ledger: LedgerView | None = None,
) -> dict[str, object]:
    """The plan as one JSON-ready object (``runner plan --json``)."""
    if ledger is not None and diff is None:
        diff = ledger.diff
    by_voucher = _counts(plan.jobs, "voucher_key")
    face, unbounded = _face_value(campaign, by_voucher)
    calls = estimated_calls(plan, diff)
    budget = campaign.budget.max_face_value if campaign.budget is not None else None
    return {
        "campaign": plan.campaign,
        "source": str(campaign.source) if campaign.source is not None else None,
        "plan_hash": plan.plan_hash,
        "vouchers": [
            _voucher(campaign.vouchers[v.key], v, by_voucher.get(v.key, 0), plan.jobs)
            for v in plan.vouchers
        ],
        "grants": {
            "total": plan.jobs.height,
            "by_voucher": {v.key: by_voucher.get(v.key, 0) for v in plan.vouchers},
            "by_audience": _counts(plan.jobs, "audience"),
        },
        "customers": _customers(plan.jobs),
        "face_value": f"{face:.2f}",
        "unbounded_vouchers": unbounded,
        "budget": budget,
        "calls": calls,
        "rate": rate,
        "estimated_seconds": round(calls / rate, 1),
        "first_jobs": plan.jobs.head(FIRST_JOBS).select(JOB_COLUMNS).to_dicts(),
        "warnings": list(plan.warnings),
        "ledger": _ledger(diff),
        "ledger_file": str(ledger.path) if ledger is not None else None,
        "tenant": ledger.tenant.as_dict() if ledger and ledger.tenant else None,
    }


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
) -> dict[str, object]:
    value = exposure(voucher, grants)
    own = jobs.filter(pl.col("voucher_key") == planned.key)
    return {
        "key": planned.key,
        "name": voucher.name,
        "num": planned.num,
        "eachCmNum": planned.each_cm_num,
        "money": voucher.money,
        "doorsill": voucher.doorsill_amount if voucher.doorsill_type == "Y" else None,
        "discount": _discount(voucher),
        "start_date": voucher.start_date.isoformat(),
        "end_date": voucher.end_date.isoformat(),
        "grant_type": voucher.grant_type,
        "pay_type": voucher.pay_type,
        "scope": _scope(voucher),
        "products": voucher.products.model_dump(exclude_none=True),
        "grants": grants,
        "customers": _customers(own),
        "face_value": None if value is None else f"{value:.2f}",
        "fingerprint": planned.fingerprint,
    }


def _discount(voucher: Voucher) -> dict[str, object]:
    discount = voucher.discount
    if isinstance(discount, DiscountRatio):
        return {"type": "ZKBL", "percent": discount.percent, "max_amount": discount.max_amount}
    return {"type": "GDMZ"}


def _scope(voucher: Voucher) -> str | dict[str, list[str]]:
    customers = voucher.customers
    if isinstance(customers, CustomerScope):
        listed = customers.model_dump()
        return {name: list(values) for name, values in listed.items() if values}
    return "specific"


def _ledger(diff: SyncReport | None) -> dict[str, object] | None:
    if diff is None:
        return None
    return {
        "already_done": diff.already_done,
        "still_to_do": diff.still_to_do,
        "new": len(diff.new),
        "no_longer_planned": len(diff.no_longer_planned),
        "done_not_in_plan": len(diff.done_not_in_plan),
        "voucher_conflicts": [
            {"voucher_key": c.voucher_key, "state": c.state} for c in diff.voucher_conflicts
        ],
    }


def write_preview(
    state_dir: Path, campaign: Campaign, plan: Plan, summary: dict[str, object]
) -> Path:
    """Write plan.parquet, plan.xlsx, preview.md, preview.json (and a copy named by the plan
    hash) into ``<state_dir>/<campaign>/``.

    ``preview.json`` is the summary itself: ``runner run --plan-hash`` compares with it.
    Each file is replaced atomically; a folder or file that cannot be written raises
    :class:`~runner.errors.StateDirUnusable` naming it.
    """
    directory = state_dir / plan.campaign
    make_directory(directory)
    parquet = io.BytesIO()
    plan.jobs.write_parquet(parquet)
    write_atomically(directory / PARQUET_FILE, parquet.getvalue(), what="the preview file")
    write_atomically(directory / XLSX_FILE, _xlsx_bytes(plan), what="the preview file")
    markdown_text = markdown(summary).encode("utf-8")
    write_atomically(directory / PREVIEW_FILE, markdown_text, what="the preview file")
    text = (json.dumps(summary, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    write_atomically(directory / SUMMARY_FILE, text, what="the preview file")
    # one copy per plan hash, so `run --plan-hash` can name what changed even after
    # later previews overwrote preview.json
    approved = directory / approved_summary_file(plan.plan_hash)
    write_atomically(approved, text, what="the preview file")
    return directory


def approved_summary_file(plan_hash: str) -> str:
    """The file name of the preview summary kept for one plan hash."""
    return f"preview-{plan_hash[:12]}.json"


def preview_campaign(
    campaign_path: Path,
    state_dir: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    today: date | None = None,
) -> tuple[dict[str, object], Path]:
    """``runner plan``: build the plan, compare it with the ledger, write the preview files.

    Needs no credentials and no network; the ledger (if the campaign ran before) is only
    read. Returns the summary and the directory the files were written to.
    """
    campaign, plan = load_plan(campaign_path, env=env, today=today)
    directory = resolve_state_dir(campaign, state_dir)
    view = ledger_diff(directory, campaign, plan)
    summary = summarize(campaign, plan, rate=float(campaign.api.rate), ledger=view)
    return summary, write_preview(directory, campaign, plan, summary)


def _vouchers_frame(plan: Plan) -> pl.DataFrame:
    """One row per voucher: key, fingerprint and every payload field, all as text."""
    fields: list[str] = []
    for planned in plan.vouchers:
        fields += [name for name in planned.payload if name not in fields]
    rows = [
        {
            "voucher_key": planned.key,
            "fingerprint": planned.fingerprint,
            **{name: _text(planned.payload.get(name)) for name in fields},
        }
        for planned in plan.vouchers
    ]
    schema = dict.fromkeys(["voucher_key", "fingerprint", *fields], pl.String())
    return pl.DataFrame(rows, schema=schema)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _xlsx_bytes(plan: Plan) -> bytes:
    """Jobs and vouchers sheets; every id is written as a text cell, never a number."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        plan.jobs.write_excel(workbook, worksheet="jobs", autofit=True)
        _vouchers_frame(plan).write_excel(workbook, worksheet="vouchers", autofit=True)
    return buffer.getvalue()
