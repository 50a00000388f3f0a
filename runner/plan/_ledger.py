"""The plan as ledger rows, and what the ledger says about it (read-only, for previews)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from runner.ledger import LEDGER_FILE, JobRow, KeyKind, Ledger, SyncReport, VoucherRow, campaign_dir
from runner.plan._model import Plan

__all__ = ["ledger_diff", "ledger_rows"]


def ledger_rows(plan: Plan) -> tuple[list[VoucherRow], list[JobRow]]:
    """The plan's vouchers and jobs in the form :meth:`Ledger.sync_plan` takes."""
    vouchers = [VoucherRow(v.key, v.fingerprint, dict(v.payload)) for v in plan.vouchers]
    columns = ("job_id", "voucher_key", "audience", "customer_key", "key_kind", "seq")
    jobs = [
        JobRow(job, voucher, audience, customer, cast(KeyKind, kind), seq, name)
        for job, voucher, audience, customer, kind, seq, name in plan.jobs.select(
            *columns, "customer_name"
        ).iter_rows()
    ]
    return vouchers, jobs


def ledger_diff(state_dir: Path, plan: Plan) -> SyncReport | None:
    """What syncing the plan would change in the campaign's ledger; None if it never ran.

    Opens the ledger read-only: takes no lock and writes nothing.
    """
    if not (campaign_dir(state_dir, plan.campaign) / LEDGER_FILE).is_file():
        return None
    vouchers, jobs = ledger_rows(plan)
    with Ledger.open(state_dir, plan.campaign, read_only=True) as ledger:
        return ledger.diff_plan(plan.plan_hash, vouchers, jobs)
