"""Comparing a plan with the ledger: a pure computation, written by the store afterwards.

:func:`compare` takes what the ledger holds and what the plan wants and returns a
:class:`SyncChanges`; :meth:`SyncChanges.report` turns it into a
:class:`~runner.ledger.SyncReport`. Nothing here touches SQLite, so ``diff_plan`` and
``sync_plan`` cannot disagree. Jobs are compared column-wise (polars joins): a plan of a
million jobs is never a million Python objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from runner.errors import LedgerError, Location
from runner.ledger._job_frame import JOB_COLUMNS
from runner.ledger._records import SyncReport, VoucherConflict, VoucherRow
from runner.ledger._rows import checked_job_state
from runner.ledger._states import JobState, VoucherState

__all__ = ["KNOWN_JOBS", "KnownVoucher", "SyncChanges", "compare"]

# A voucher in these states may exist on the server: its settings can no longer change.
_FROZEN: frozenset[str] = frozenset({"sending", "unknown", "created", "review"})


@dataclass(frozen=True)
class KnownVoucher:
    """What :func:`compare` needs of a voucher already in the ledger."""

    fingerprint: str
    state: VoucherState
    active: bool


#: What :func:`compare` needs of the jobs already in the ledger: a frame of these columns,
#: in the ledger's (rowid) order.
KNOWN_JOBS: dict[str, type[pl.DataType]] = {
    "job_id": pl.String,
    "voucher_key": pl.String,
    "customer_key": pl.String,
    "key_kind": pl.String,
    "seq": pl.Int64,
    "state": pl.String,
    "active": pl.Int64,
}


@dataclass
class SyncChanges:
    """Every write a sync would make, grouped by kind."""

    new_vouchers: list[VoucherRow] = field(default_factory=list)
    updated_vouchers: list[tuple[VoucherRow, VoucherState]] = field(default_factory=list)
    reactivated_vouchers: list[tuple[str, VoucherState]] = field(default_factory=list)
    deactivated_vouchers: list[tuple[str, VoucherState]] = field(default_factory=list)
    conflicts: list[VoucherConflict] = field(default_factory=list)
    new_jobs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=JOB_COLUMNS))
    returning: list[tuple[str, JobState]] = field(default_factory=list)
    leaving: list[tuple[str, JobState]] = field(default_factory=list)
    plan_states: Counter[JobState] = field(default_factory=Counter)

    def report(self, plan_hash: str, *, applied: bool) -> SyncReport:
        """The user-facing summary of these changes."""
        return SyncReport(
            plan_hash=plan_hash,
            applied=applied,
            new=tuple(self.new_jobs.get_column("job_id").to_list()),
            returning=tuple(job_id for job_id, _ in self.returning),
            no_longer_planned=tuple(j for j, state in self.leaving if state != "done"),
            done_not_in_plan=tuple(j for j, state in self.leaving if state == "done"),
            plan_states=dict(self.plan_states),
            new_vouchers=tuple(v.voucher_key for v in self.new_vouchers),
            updated_vouchers=tuple(v.voucher_key for v, _ in self.updated_vouchers),
            voucher_conflicts=tuple(self.conflicts),
        )


def compare(
    known_vouchers: Mapping[str, KnownVoucher],
    known_jobs: pl.DataFrame | Mapping[str, int],
    vouchers: Sequence[VoucherRow],
    jobs: pl.DataFrame,
) -> SyncChanges:
    """What syncing ``vouchers`` and ``jobs`` (a frame of :data:`JOB_COLUMNS`, in plan
    order) into a ledger holding the known rows (:data:`KNOWN_JOBS`) changes.

    ``known_jobs`` as a mapping (state: count of active jobs) says the ledger's active
    jobs are exactly these very jobs: it last synced the same plan hash (which hashes
    the job ids, and a job id its meaning) and holds as many active jobs as the plan
    lists. Nothing about the jobs changes then; only the plan's own consistency is
    checked, without reading every job.
    """
    changes = SyncChanges()
    planned_keys = _compare_vouchers(known_vouchers, vouchers, changes)
    if isinstance(known_jobs, pl.DataFrame):
        _compare_jobs(known_jobs, jobs, planned_keys, changes)
    else:
        plan = jobs.with_row_index("_at")
        _refuse_first_problem(plan, plan.clear(), planned_keys)
        for state, n in known_jobs.items():
            changes.plan_states[checked_job_state(state)] += n
    return changes


def _compare_vouchers(
    known: Mapping[str, KnownVoucher], vouchers: Sequence[VoucherRow], changes: SyncChanges
) -> set[str]:
    keys: set[str] = set()
    for row in vouchers:
        if row.voucher_key in keys:
            raise LedgerError(
                f"the plan lists voucher {row.voucher_key!r} twice",
                where=Location(yaml_path=f"vouchers.{row.voucher_key}"),
                hint="This is a bug in the planner: please report it with the campaign file.",
            )
        keys.add(row.voucher_key)
        _compare_voucher(known.get(row.voucher_key), row, changes)
    changes.deactivated_vouchers.extend(
        (key, old.state) for key, old in known.items() if old.active and key not in keys
    )
    return keys


def _compare_voucher(old: KnownVoucher | None, row: VoucherRow, changes: SyncChanges) -> None:
    if old is None:
        changes.new_vouchers.append(row)
        return
    if old.fingerprint != row.fingerprint:
        if old.state in _FROZEN:
            conflict = VoucherConflict(row.voucher_key, old.state, old.fingerprint, row.fingerprint)
            changes.conflicts.append(conflict)
            return
        changes.updated_vouchers.append((row, old.state))
    if not old.active:
        changes.reactivated_vouchers.append((row.voucher_key, old.state))


def _compare_jobs(
    known: pl.DataFrame, jobs: pl.DataFrame, voucher_keys: set[str], changes: SyncChanges
) -> None:
    """Column-wise: ``jobs`` (:data:`JOB_COLUMNS`) against ``known`` (:data:`KNOWN_JOBS`)."""
    plan = jobs.with_row_index("_at")
    if known.is_empty():  # a first sync: every job is new
        _refuse_first_problem(plan, plan.clear(), voucher_keys)
        changes.new_jobs = jobs
        changes.plan_states["planned"] += jobs.height
        return
    matched = plan.join(known, on="job_id", how="left", suffix="_old", maintain_order="left")
    _refuse_first_problem(plan, matched, voucher_keys)
    old = matched.filter(pl.col("state").is_not_null())
    changes.new_jobs = matched.filter(pl.col("state").is_null()).select(list(JOB_COLUMNS))
    if changes.new_jobs.height:
        changes.plan_states["planned"] += changes.new_jobs.height
    for state, n in old.group_by("state").len().iter_rows():
        changes.plan_states[checked_job_state(state)] += n
    back = old.filter(pl.col("active") == 0).select("job_id", "state")
    changes.returning = [(j, checked_job_state(s)) for j, s in back.iter_rows()]
    gone = known.filter(
        (pl.col("active") == 1) & ~pl.col("job_id").is_in(plan.get_column("job_id").implode())
    )
    changes.leaving = [
        (j, checked_job_state(s)) for j, s in gone.select("job_id", "state").iter_rows()
    ]


def _refuse_first_problem(plan: pl.DataFrame, matched: pl.DataFrame, keys: set[str]) -> None:
    """Raise for the first job (in plan order) listed twice, granting a voucher the plan
    does not list, or meaning something else than in the ledger; as the plan lists them."""
    found: list[tuple[int, int, LedgerError]] = []
    if plan.get_column("job_id").n_unique() < plan.height:  # (one hash pass when none is)
        twice = plan.filter(~pl.col("job_id").is_first_distinct()).head(1)
        for at, job_id in twice.select("_at", "job_id").iter_rows():
            error = LedgerError(f"the plan lists job {job_id} twice", **_bug(job_id))
            found.append((at, 0, error))
    if not set(plan.get_column("voucher_key").unique().to_list()) <= keys:
        stray = plan.filter(~pl.col("voucher_key").is_in(sorted(keys))).head(1)
        for at, job_id, key in stray.select("_at", "job_id", "voucher_key").iter_rows():
            message = f"job {job_id} grants voucher {key!r}, which the plan does not list"
            found.append((at, 1, LedgerError(message, **_bug(job_id))))
    if "state" in matched.columns:  # else: no job of the ledger to compare with
        same = [pl.col(c) == pl.col(f"{c}_old") for c in _MEANING]
        differ = matched.filter(pl.col("state").is_not_null() & ~pl.all_horizontal(same))
        for row in differ.head(1).iter_rows(named=True):
            found.append((row["_at"], 2, _meaning_changed(row)))
    if found:
        raise min(found, key=lambda item: item[:2])[2]


_MEANING = ("voucher_key", "customer_key", "key_kind", "seq")


def _bug(job_id: str) -> dict[str, Any]:
    return {
        "where": Location(job_id=job_id),
        "hint": "This is a bug in the planner: please report it with the campaign file.",
    }


def _meaning_changed(row: Mapping[str, Any]) -> LedgerError:
    before = tuple(row[f"{c}_old"] for c in _MEANING)
    after = tuple(row[c] for c in _MEANING)
    return LedgerError(
        f"job {row['job_id']} means {after} in the plan but {before} in the ledger",
        where=Location(job_id=row["job_id"]),
        hint="Job ids must not change meaning: this is a bug in the planner; "
        "please report it with the campaign file.",
    )
