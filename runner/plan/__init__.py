"""The job plan: what a campaign will create and grant, computed without any network.

``load_plan(path)`` reads the campaign and its spreadsheets and returns the
:class:`Plan`: every voucher's complete ``addVoucherInfo`` payload with its fingerprint,
one job row per grant call (with a stable job id) and the plan hash.
:mod:`runner.ops.plan` turns it into the preview a campaign manager approves.
"""

from __future__ import annotations

from runner.plan._build import build_plan, load_plan
from runner.plan._checks import exposure
from runner.plan._ids import canonical_json, fingerprint, job_id, plan_hash, voucher_identity
from runner.plan._ledger import (
    Judgement,
    LedgerRows,
    LedgerView,
    check_against_ledger,
    check_never_ran,
    done_by_voucher,
    fit_created,
    judge_against_ledger,
    ledger_diff,
    ledger_rows,
)
from runner.plan._lifecycle import (
    Behind,
    Closed,
    Lifecycle,
    LifecycleStep,
    Wanted,
    judge_lifecycle,
)
from runner.plan._model import JOB_COLUMNS, Plan, PlannedVoucher

__all__ = [
    "JOB_COLUMNS",
    "Behind",
    "Closed",
    "Judgement",
    "LedgerRows",
    "LedgerView",
    "Lifecycle",
    "LifecycleStep",
    "Plan",
    "PlannedVoucher",
    "Wanted",
    "build_plan",
    "canonical_json",
    "check_against_ledger",
    "check_never_ran",
    "done_by_voucher",
    "exposure",
    "fingerprint",
    "fit_created",
    "job_id",
    "judge_against_ledger",
    "judge_lifecycle",
    "ledger_diff",
    "ledger_rows",
    "load_plan",
    "plan_hash",
    "voucher_identity",
]
