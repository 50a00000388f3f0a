"""The plan as ledger rows, and what the ledger says about it.

:func:`check_against_ledger` is the one judgement of a plan against what was already
sent, shared by ``plan`` (read-only), ``run`` and ``adopt``, so that ``plan`` refuses
exactly what ``run`` would refuse, with the same reasons:

- a created voucher whose settings changed (the vendor cannot change them), except its
  end date and finish: those are planned changes (:mod:`runner.plan._lifecycle`), and
  their problems (a new end date in the past, ...) are refused here too;
- a created voucher that the plan needs more of (``num``, ``eachCmNum``, customers),
  counting the grants made earlier that the plan no longer lists: they still use room;
- a new voucher key with the same name, dates, money and discount as a voucher the
  ledger holds under a key the campaign no longer lists: a renamed key, never created
  again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from runner.campaign import Campaign
from runner.clock import beijing_today
from runner.errors import InvalidInput, Location, Problem
from runner.ledger import (
    LEDGER_FILE,
    JobFrame,
    Ledger,
    SyncReport,
    Tenant,
    VoucherRecord,
    VoucherRow,
    campaign_dir,
)
from runner.plan._ids import voucher_identity
from runner.plan._lifecycle import Lifecycle, judge_lifecycle
from runner.plan._model import Plan

__all__ = [
    "Judgement",
    "LedgerRows",
    "LedgerView",
    "check_against_ledger",
    "check_never_ran",
    "done_by_voucher",
    "fit_created",
    "judge_against_ledger",
    "ledger_diff",
    "ledger_rows",
]

LedgerRows = tuple[list[VoucherRow], JobFrame]

#: Payload fields the plan computes from its grants; a created voucher keeps its own.
_PLANNED_FIELDS = ("num", "eachCmNum", "cmId", "cmCode")
#: Payload fields a created voucher changes after its creation (a planned change, not a
#: conflict): the create payload stays in the ledger, the change in its ``changes``.
_LIFECYCLE_FIELDS = ("endDate",)
_MAY_EXIST = frozenset({"created", "sending", "unknown", "review"})


def ledger_rows(plan: Plan) -> tuple[list[VoucherRow], JobFrame]:
    """The plan's vouchers and jobs in the form :meth:`Ledger.sync_plan` takes (the jobs
    as a :class:`~runner.ledger.JobFrame`: a million jobs are never a million objects)."""
    vouchers = [VoucherRow(v.key, v.fingerprint, dict(v.payload)) for v in plan.vouchers]
    return vouchers, JobFrame(plan.jobs)


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
    the vendor cannot raise them. A created voucher's end date is a lifecycle change,
    not a conflict: it keeps its create payload. Any other changed field is left for the
    ledger to report as a conflict.
    """
    known = {v.voucher_key: v for v in ledger.vouchers(active=None)}
    fitted: list[VoucherRow] = []
    problems: list[Problem] = []
    for row in vouchers:
        old = known.get(row.voucher_key)
        if old is None or old.state not in _MAY_EXIST or old.fingerprint == row.fingerprint:
            fitted.append(row)
            continue
        skip = _PLANNED_FIELDS + (_LIFECYCLE_FIELDS if old.state == "created" else ())
        base_old = {k: v for k, v in old.fields.items() if k not in skip}
        base_new = {k: v for k, v in row.fields.items() if k not in skip}
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


def _room_problems(ledger: Ledger, vouchers: list[VoucherRow], jobs: pl.DataFrame) -> list[Problem]:
    """Created vouchers whose room (``num``, ``eachCmNum``) the plan plus the grants made
    earlier and no longer planned would exceed: the vendor would refuse the rest."""
    known = {v.voucher_key: v for v in ledger.vouchers(active=None)}
    problems: list[Problem] = []
    for row in vouchers:
        old = known.get(row.voucher_key)
        if old is None or old.state not in _MAY_EXIST:
            continue
        mine = jobs.filter(pl.col("voucher_key") == row.voucher_key)
        done = ledger.job_table(
            "done", row.voucher_key, active=None, columns=("job_id", "customer_key")
        )
        kept = done.join(mine.select("job_id"), on="job_id", how="anti")
        if kept.is_empty():
            continue
        customers = pl.concat([mine.get_column("customer_key"), kept.get_column("customer_key")])
        per_customer = customers.value_counts(name="n")
        num, each = int(str(row.fields.get("num", 0))), int(str(row.fields.get("eachCmNum", 0)))
        over = sorted(per_customer.filter(pl.col("n") > each).get_column("customer_key"))
        notes = []
        if mine.height + kept.height > num:
            notes.append(f"{mine.height} planned + {kept.height} made earlier > num {num}")
        if over:
            notes.append(
                f"{len(over)} customer(s) would hold more than eachCmNum {each} "
                f"(e.g. {', '.join(over[:3])})"
            )
        if notes:
            problems.append(_room_problem(row.voucher_key, notes))
    return problems


def _room_problem(key: str, notes: list[str]) -> Problem:
    return Problem(
        f"voucher {key!r} has no room for this plan: " + "; ".join(notes),
        Location(yaml_path=f"vouchers.{key}"),
        "Grants made earlier are never revoked and still count against the voucher's "
        "limits. Plan fewer grants for it, or give the additional grants a new voucher key.",
    )


def _renames(ledger: Ledger, vouchers: list[VoucherRow]) -> list[Problem]:
    """New keys that look like a voucher the ledger holds under a key no longer planned."""
    known = ledger.vouchers(active=None)
    keys = {v.voucher_key for v in known}
    wanted = {row.voucher_key for row in vouchers}
    dropped = [v for v in known if v.voucher_key not in wanted and v.state in _MAY_EXIST]
    problems: list[Problem] = []
    for row in vouchers:
        if row.voucher_key in keys:
            continue
        for old in dropped:
            if voucher_identity(old.fields) == voucher_identity(row.fields):
                problems.append(_rename_problem(row.voucher_key, old))
    return problems


def _rename_problem(key: str, old: VoucherRecord) -> Problem:
    remote = f" (remote voucher {old.remote_id})" if old.remote_id else ""
    return Problem(
        f"voucher key {key!r} looks like {old.voucher_key!r} renamed: the ledger holds "
        f"{old.voucher_key!r}{remote} with the same name, dates, money and discount",
        Location(yaml_path=f"vouchers.{key}"),
        f"A voucher key is the voucher's identity. Rename it back to {old.voucher_key!r} "
        "(nothing is created twice), or change the name or dates if it is really another "
        "voucher.",
    )


@dataclass(frozen=True)
class Judgement:
    """The plan against the ledger: the rows to sync (fitted to what was created), what
    syncing changes, the lifecycle (end dates and finishes) and every reason ``run``
    would refuse (located in the campaign file)."""

    rows: LedgerRows
    diff: SyncReport
    lifecycle: Lifecycle
    problems: list[Problem] = field(default_factory=list)


def judge_against_ledger(
    ledger: Ledger, campaign: Campaign, plan: Plan, *, today: date | None = None
) -> Judgement:
    """Everything ``run`` needs to know of the plan against *ledger*; raises nothing.

    ``today`` (default: today in Beijing) decides which end dates are in the past.
    """
    vouchers, jobs = ledger_rows(plan)
    vouchers, problems = fit_created(ledger, vouchers)
    grown = {p.where.yaml_path for p in problems}
    problems += [
        p for p in _room_problems(ledger, vouchers, jobs.frame) if p.where.yaml_path not in grown
    ]
    problems += _renames(ledger, vouchers)
    diff = ledger.diff_plan(plan.plan_hash, vouchers, jobs)
    grown = {p.where.yaml_path for p in problems}
    problems += [
        c.as_problem() for c in diff.voucher_conflicts if f"vouchers.{c.voucher_key}" not in grown
    ]
    located = [
        Problem(p.message, campaign.location(p.where.yaml_path or ""), p.hint) for p in problems
    ]
    states = {v.voucher_key: v.state for v in ledger.vouchers(active=None)}
    lifecycle, found = judge_lifecycle(
        campaign, states, ledger.lifecycles(), today or beijing_today()
    )
    return Judgement((vouchers, jobs), diff, lifecycle, located + found)


def check_against_ledger(
    ledger: Ledger, campaign: Campaign, plan: Plan, *, today: date | None = None
) -> Judgement:
    """:func:`judge_against_ledger`, raising :class:`~runner.errors.InvalidInput` (exit 2)
    with every problem when ``run`` must not start."""
    judgement = judge_against_ledger(ledger, campaign, plan, today=today)
    if judgement.problems:
        raise InvalidInput(judgement.problems, source=str(campaign.source))
    return judgement


def check_never_ran(campaign: Campaign, *, today: date | None = None) -> None:
    """For a campaign without a ledger: raise :class:`~runner.errors.InvalidInput` (exit 2)
    for what :func:`judge_lifecycle` refuses of vouchers never created (an end date in
    the past, ``finished: true``), before any ledger file is made."""
    _lifecycle, problems = judge_lifecycle(campaign, {}, {}, today or beijing_today())
    if problems:
        raise InvalidInput(problems, source=str(campaign.source))


@dataclass(frozen=True)
class LedgerView:
    """What ``plan`` shows of the ledger: where it is, its tenant, what a sync changes, and
    the lifecycle changes a run would make."""

    path: Path
    diff: SyncReport | None = None  # None: the campaign never ran with this state dir
    tenant: Tenant | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    #: Done grants per voucher (still planned ones), to count what a closed voucher misses.
    done: Mapping[str, int] = field(default_factory=dict)


def ledger_diff(
    state_dir: Path, campaign: Campaign, plan: Plan, *, today: date | None = None
) -> LedgerView:
    """What syncing the plan would change in the campaign's ledger, read-only.

    Takes no lock and writes nothing. Raises what :func:`check_against_ledger` raises,
    so ``plan`` refuses what ``run`` would (a campaign that never ran: its new vouchers'
    end dates and ``finished`` are judged all the same).
    """
    path = campaign_dir(state_dir, plan.campaign) / LEDGER_FILE
    if not path.exists():
        check_never_ran(campaign, today=today)
        return LedgerView(path)
    with Ledger.open(state_dir, plan.campaign, read_only=True) as ledger:
        judgement = check_against_ledger(ledger, campaign, plan, today=today)
        return LedgerView(
            path, judgement.diff, ledger.tenant(), judgement.lifecycle, done_by_voucher(ledger)
        )


def done_by_voucher(ledger: Ledger) -> dict[str, int]:
    """How many still-planned grants of each voucher are done."""
    return {key: states.get("done", 0) for key, states in ledger.counts().items()}
