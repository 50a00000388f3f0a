"""The chaos invariant, counted rather than asserted: what the remote holds against the plan.

After a campaign has run to the end: the remote holds exactly the planned vouchers (none
extra), every customer holds exactly the planned number of grants of each, and
``results.csv`` says the same as the remote (every job done, done grants per customer equal
to the remote's instances). Every way to miss is counted, so a soak reports how often.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from runner.ledger import campaign_dir
from runner.plan import Plan
from runner.sandbox.testing import inspect
from tests.execute.conftest import registry

__all__ = ["Check", "check_invariant"]


@dataclass
class Check:
    """One campaign's invariant: counts of what matched and of every miss."""

    planned_vouchers: int = 0
    remote_vouchers: int = 0
    extra_vouchers: int = 0
    missing_vouchers: int = 0
    planned_grants: int = 0
    remote_grants: int = 0
    duplicates: int = 0  # grants the remote holds beyond the plan (extra vouchers' included)
    lost: int = 0  # planned grants the remote does not hold
    results_mismatches: int = 0  # results.csv rows or counts that differ from the remote
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the remote is exactly the plan and results.csv agrees with it."""
        return not self.problems


def _cm_ids() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for row in registry().iter_rows(named=True):
        out[("cm_id", row["id"])] = row["id"]
        out[("cm_code", row["code"])] = row["id"]
    return out


def _results(state_dir: Path, campaign: str) -> pl.DataFrame | None:
    path = campaign_dir(state_dir, campaign) / "results.csv"
    return pl.read_csv(path, infer_schema=False) if path.exists() else None


def _remote_ids(
    plan: Plan, table: pl.DataFrame | None, remote: list[dict[str, Any]]
) -> dict[str, str]:
    """Planned voucher key → remote id: from results.csv, else by the voucher's name."""
    ids: dict[str, str] = {}
    if table is not None:
        for key, voucher_id in table.select("voucher_key", "voucher_id").unique().iter_rows():
            if voucher_id:
                ids[key] = voucher_id
    for planned in plan.vouchers:
        if planned.key not in ids:
            named = [v["id"] for v in remote if v["name"] == planned.payload["name"]]
            if named:
                ids[planned.key] = named[0]
    return ids


def check_invariant(base_url: str, plan: Plan, state_dir: Path) -> Check:
    """Compare the sandbox's state with the plan and with results.csv."""
    snapshot = inspect(base_url)
    table = _results(state_dir, plan.campaign)
    remote = list(snapshot["vouchers"])
    check = Check(planned_vouchers=len(plan.vouchers), remote_vouchers=len(remote))
    ids = _remote_ids(plan, table, remote)
    ours = set(ids.values())
    check.extra_vouchers = sum(1 for v in remote if v["id"] not in ours)
    check.missing_vouchers = sum(
        1 for p in plan.vouchers if ids.get(p.key) not in {v["id"] for v in remote}
    )
    cm_ids = _cm_ids()
    expected: Counter[tuple[str, str]] = Counter(
        (ids.get(r["voucher_key"], "?"), cm_ids[(r["key_kind"], r["customer_key"])])
        for r in plan.jobs.iter_rows(named=True)
    )
    actual: Counter[tuple[str, str]] = Counter(
        {
            (voucher_id, cm_id): held["count"]
            for voucher_id, per_customer in snapshot["grants"].items()
            for cm_id, held in per_customer.items()
        }
    )
    check.planned_grants, check.remote_grants = expected.total(), actual.total()
    check.duplicates = (actual - expected).total()
    check.lost = (expected - actual).total()
    _compare_results(check, plan, table, cm_ids, ids, actual)
    _problems(check)
    return check


def _compare_results(
    check: Check,
    plan: Plan,
    table: pl.DataFrame | None,
    cm_ids: dict[tuple[str, str], str],
    ids: dict[str, str],
    actual: Counter[tuple[str, str]],
) -> None:
    if table is None:
        check.results_mismatches = plan.jobs.height
        check.problems.append("results.csv is missing")
        return
    planned_jobs = set(plan.jobs["job_id"].to_list())
    listed = table["job_id"].to_list()
    not_done = table.filter(pl.col("state") != "done").height
    done: Counter[tuple[str, str]] = Counter(
        (ids.get(r["voucher_key"], "?"), cm_ids[(r["key_kind"], r["customer_key"])])
        for r in table.filter(pl.col("state") == "done").iter_rows(named=True)
    )
    differ = (done - actual).total() + (actual - done).total()
    strays = len(set(listed) ^ planned_jobs) + len(listed) - len(set(listed))
    check.results_mismatches = not_done + differ + strays
    if not_done:
        check.problems.append(f"results.csv: {not_done} job(s) not done")
    if differ:
        check.problems.append(f"results.csv: {differ} done grant(s) differ from the remote")
    if strays:
        check.problems.append(f"results.csv: {strays} job id(s) not exactly the plan's")


def _problems(check: Check) -> None:
    if check.extra_vouchers:
        check.problems.append(f"{check.extra_vouchers} remote voucher(s) beyond the plan")
    if check.missing_vouchers:
        check.problems.append(f"{check.missing_vouchers} planned voucher(s) not on the remote")
    if check.duplicates:
        check.problems.append(f"{check.duplicates} grant(s) beyond the plan (duplicates)")
    if check.lost:
        check.problems.append(f"{check.lost} planned grant(s) missing on the remote (lost)")
