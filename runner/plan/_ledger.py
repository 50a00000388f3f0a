"""The plan as ledger rows, and what the ledger says about it (read-only, for previews)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from runner.errors import Location, Problem
from runner.ledger import (
    LEDGER_FILE,
    JobRow,
    KeyKind,
    Ledger,
    SyncReport,
    VoucherRecord,
    VoucherRow,
    campaign_dir,
)
from runner.plan._model import Plan

__all__ = ["fit_created", "ledger_diff", "ledger_rows"]

#: Payload fields the plan computes from its grants; a created voucher keeps its own.
_PLANNED_FIELDS = ("num", "eachCmNum", "cmId", "cmCode")
_MAY_EXIST = frozenset({"created", "sending", "unknown", "review"})


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


def _listed(fields: object) -> set[str]:
    return {part for part in str(fields or "").split(",") if part}


def _growth(old: VoucherRecord, new: VoucherRow) -> list[str]:
    """What the new plan needs beyond what the voucher was created with."""
    grown: list[str] = []
    for name in ("num", "eachCmNum"):
        before, after = int(str(old.fields.get(name, 0))), int(str(new.fields.get(name, 0)))
        if after > before:
            grown.append(f"{name} {before} → {after}")
    for name in ("cmId", "cmCode"):
        extra = _listed(new.fields.get(name)) - _listed(old.fields.get(name))
        if extra:
            grown.append(f"{len(extra)} customer(s) not on its {name} list")
    return grown


def fit_created(
    ledger: Ledger, vouchers: list[VoucherRow]
) -> tuple[list[VoucherRow], list[Problem]]:
    """Keep vouchers that may exist remotely as they were created, when the plan fits them.

    ``num``, ``eachCmNum`` and the customer list follow the grants; after a change of
    grants a created voucher keeps its own values as long as the new plan fits in them
    (fewer grants, the same or fewer customers). A plan that needs more is a problem:
    the vendor cannot raise them. Any other changed field is left for the ledger to
    report as a conflict.
    """
    known = {v.voucher_key: v for v in ledger.vouchers(active=None)}
    fitted: list[VoucherRow] = []
    problems: list[Problem] = []
    for row in vouchers:
        old = known.get(row.voucher_key)
        if old is None or old.state not in _MAY_EXIST or old.fingerprint == row.fingerprint:
            fitted.append(row)
            continue
        base_old = {k: v for k, v in old.fields.items() if k not in _PLANNED_FIELDS}
        base_new = {k: v for k, v in row.fields.items() if k not in _PLANNED_FIELDS}
        grown = _growth(old, row) if base_old == base_new else []
        if base_old != base_new:
            fitted.append(row)
        elif grown:
            fitted.append(row)
            problems.append(_grown_problem(row.voucher_key, grown))
        else:
            fitted.append(VoucherRow(old.voucher_key, old.fingerprint, dict(old.fields)))
    return fitted, problems


def _grown_problem(key: str, grown: list[str]) -> Problem:
    return Problem(
        f"voucher {key!r} already exists remotely and the campaign now needs more of it: "
        + "; ".join(grown),
        Location(yaml_path=f"vouchers.{key}"),
        "A created voucher cannot grow. Keep its grants within what it was created with, "
        "or give the additional grants a new voucher key.",
    )


def ledger_diff(state_dir: Path, plan: Plan) -> SyncReport | None:
    """What syncing the plan would change in the campaign's ledger; None if it never ran.

    Opens the ledger read-only: takes no lock and writes nothing.
    """
    if not (campaign_dir(state_dir, plan.campaign) / LEDGER_FILE).is_file():
        return None
    vouchers, jobs = ledger_rows(plan)
    with Ledger.open(state_dir, plan.campaign, read_only=True) as ledger:
        fitted, _grown = fit_created(ledger, vouchers)
        return ledger.diff_plan(plan.plan_hash, fitted, jobs)
