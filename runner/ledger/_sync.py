"""Comparing a plan with the ledger: a pure computation, written by the store afterwards.

:func:`compare` takes what the ledger holds and what the plan wants and returns a
:class:`SyncChanges`; :meth:`SyncChanges.report` turns it into a
:class:`~runner.ledger.SyncReport`. Nothing here touches SQLite, so ``diff_plan`` and
``sync_plan`` cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from runner.errors import LedgerError, Location
from runner.ledger._records import JobRow, SyncReport, VoucherConflict, VoucherRow
from runner.ledger._states import JobState, VoucherState

__all__ = ["KnownJob", "KnownVoucher", "SyncChanges", "compare"]

# A voucher in these states may exist on the server: its settings can no longer change.
_FROZEN: frozenset[str] = frozenset({"sending", "unknown", "created", "review"})


@dataclass(frozen=True)
class KnownVoucher:
    """What :func:`compare` needs of a voucher already in the ledger."""

    fingerprint: str
    state: VoucherState
    active: bool


@dataclass(frozen=True)
class KnownJob:
    """What :func:`compare` needs of a job already in the ledger."""

    voucher_key: str
    customer_key: str
    key_kind: str
    seq: int
    state: JobState
    active: bool


@dataclass
class SyncChanges:
    """Every write a sync would make, grouped by kind."""

    new_vouchers: list[VoucherRow] = field(default_factory=list)
    updated_vouchers: list[tuple[VoucherRow, VoucherState]] = field(default_factory=list)
    reactivated_vouchers: list[tuple[str, VoucherState]] = field(default_factory=list)
    deactivated_vouchers: list[tuple[str, VoucherState]] = field(default_factory=list)
    conflicts: list[VoucherConflict] = field(default_factory=list)
    new_jobs: list[JobRow] = field(default_factory=list)
    returning: list[tuple[str, JobState]] = field(default_factory=list)
    leaving: list[tuple[str, JobState]] = field(default_factory=list)
    plan_states: Counter[JobState] = field(default_factory=Counter)

    def report(self, plan_hash: str, *, applied: bool) -> SyncReport:
        """The user-facing summary of these changes."""
        return SyncReport(
            plan_hash=plan_hash,
            applied=applied,
            new=tuple(job.job_id for job in self.new_jobs),
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
    known_jobs: Mapping[str, KnownJob],
    vouchers: Sequence[VoucherRow],
    jobs: Sequence[JobRow],
) -> SyncChanges:
    """What syncing ``vouchers`` and ``jobs`` into a ledger holding the known rows changes."""
    changes = SyncChanges()
    planned_keys = _compare_vouchers(known_vouchers, vouchers, changes)
    _compare_jobs(known_jobs, jobs, planned_keys, changes)
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
    known: Mapping[str, KnownJob],
    jobs: Sequence[JobRow],
    voucher_keys: set[str],
    changes: SyncChanges,
) -> None:
    seen: set[str] = set()
    for job in jobs:
        _check_job(job, seen, voucher_keys)
        seen.add(job.job_id)
        old = known.get(job.job_id)
        if old is None:
            changes.new_jobs.append(job)
            changes.plan_states["planned"] += 1
            continue
        _check_same_job(old, job)
        changes.plan_states[old.state] += 1
        if not old.active:
            changes.returning.append((job.job_id, old.state))
    changes.leaving.extend(
        (job_id, old.state) for job_id, old in known.items() if old.active and job_id not in seen
    )


def _check_job(job: JobRow, seen: set[str], voucher_keys: set[str]) -> None:
    where = Location(job_id=job.job_id)
    hint = "This is a bug in the planner: please report it with the campaign file."
    if job.job_id in seen:
        raise LedgerError(f"the plan lists job {job.job_id} twice", where=where, hint=hint)
    if job.voucher_key not in voucher_keys:
        raise LedgerError(
            f"job {job.job_id} grants voucher {job.voucher_key!r}, which the plan does not list",
            where=where,
            hint=hint,
        )


def _check_same_job(old: KnownJob, job: JobRow) -> None:
    before = (old.voucher_key, old.customer_key, old.key_kind, old.seq)
    after = (job.voucher_key, job.customer_key, job.key_kind, job.seq)
    if before != after:
        raise LedgerError(
            f"job {job.job_id} means {after} in the plan but {before} in the ledger",
            where=Location(job_id=job.job_id),
            hint="Job ids must not change meaning: this is a bug in the planner; "
            "please report it with the campaign file.",
        )
